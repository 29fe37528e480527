// Issue 15, defect 2: sizes whose element count, strides or byte size leave int64 are a
// ValueError naming the shape, never a wrapped count, a segfault or a tensor holding no memory.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "common/test_helpers.hpp"
#include "loom/nn.hpp"

using namespace loom_test;

namespace {
constexpr std::int64_t k2e62 = std::int64_t{1} << 62;
constexpr std::int64_t k2e40 = std::int64_t{1} << 40;
constexpr std::int64_t k2e32 = std::int64_t{1} << 32;

}  // namespace

TEST_SUITE("sizes too large") {

TEST_CASE("an element count past int64 is a ValueError naming the shape") {
  const std::string msg = message_of<loom::ValueError>([] { (void)loom::randn({k2e32, k2e32}); });
  CHECK(msg.find("(4294967296, 4294967296) is too large") != std::string::npos);
  CHECK(message_of<loom::ValueError>([] { (void)loom::zeros({k2e40, k2e40}); }).find("too large") != std::string::npos);
  CHECK(message_of<loom::ValueError>([] { (void)loom::Shape{k2e40, k2e40, 3}.numel(); }).find("(1099511627776, 1099511627776, 3)") !=
        std::string::npos);
}

TEST_CASE("a byte size past int64 is a ValueError, not a zero-byte allocation") {
  // 2^62 float32 elements: the element count fits, the byte count (2^64) does not.
  const std::string msg = message_of<loom::ValueError>([] { (void)loom::zeros({k2e62}); });
  CHECK(msg.find("size in bytes") != std::string::npos);
  CHECK(msg.find("(4611686018427387904,)") != std::string::npos);
}

TEST_CASE("an empty tensor with huge other sizes is still empty, not an overflow") {
  CHECK(loom::Shape{k2e40, k2e40, 0}.numel() == 0);
  CHECK(loom::Shape{0, k2e40, k2e40}.numel() == 0);
}

TEST_CASE("a layer too large to hold is refused when it is built") {
  // Linear(2^62, 1): weight (1, 2^62) in float32 is 2^64 bytes.
  CHECK(message_of<loom::ValueError>([] { loom::nn::Linear(k2e62, 1); }).find("too large") != std::string::npos);
}

}
