// In-place ops write through views and bump the storage's version counter.
#include "common/unit_helpers.hpp"

using namespace loom_test;
using loom::DType;

TEST_SUITE("in-place") {

TEST_CASE("every in-place op bumps the version by at least one") {
  auto x = loom::ones({4});
  auto bumps = [&](auto&& op, const char* what) {
    INFO(std::string(what));
    const auto before = x.version();
    op();
    CHECK(x.version() > before);
  };
  bumps([&] { x.fill_(2.0); }, "fill_");
  bumps([&] { x.zero_(); }, "zero_");
  bumps([&] { x.copy_(loom::ones({4})); }, "copy_");
  bumps([&] { x.add_(loom::ones({4})); }, "add_ tensor");
  bumps([&] { x.add_(1.0); }, "add_ scalar");
  bumps([&] { x.sub_(0.5); }, "sub_");
  bumps([&] { x.mul_(2.0); }, "mul_");
  bumps([&] { x.div_(loom::full({4}, 2.0)); }, "div_");
  bumps([&] { x.clamp_(0.0, 1.0); }, "clamp_");
  bumps([&] { x.masked_fill_(loom::tensor({true, false, true, false}), 3.0); }, "masked_fill_");
  bumps([&] { x.uniform_(); }, "uniform_");
  bumps([&] { x.normal_(); }, "normal_");
}

TEST_CASE("out-of-place ops do not bump the version") {
  auto x = loom::ones({4});
  const auto before = x.version();
  auto y = x + 1.0;
  auto z = loom::exp(x);
  auto s = x.sum();
  CHECK(x.version() == before);
}

TEST_CASE("an in-place op on a view bumps the version seen by the base") {
  auto base = iota({2, 3});
  const auto before = base.version();
  base.select(0, 1).add_(10.0);
  CHECK(base.version() > before);
  CHECK(values(base) == std::vector<double>{0, 1, 2, 13, 14, 15});
}

TEST_CASE("in-place ops compute the right values") {
  auto x = loom::tensor({1.0, -2.0, 3.0});
  x.mul_(2.0).add_(loom::tensor({1.0, 1.0, 1.0}));
  CHECK(values(x) == std::vector<double>{3, -3, 7});
  x.clamp_(-1.0, 5.0);
  CHECK(values(x) == std::vector<double>{3, -1, 5});
  x.sub_(loom::tensor({1.0}));  // broadcast
  CHECK(values(x) == std::vector<double>{2, -2, 4});
  x.div_(2.0);
  CHECK(values(x) == std::vector<double>{1, -1, 2});
}

TEST_CASE("copy_ broadcasts and converts dtype") {
  auto dst = loom::zeros({2, 3}, DType::Int64);
  dst.copy_(loom::tensor({1.7, -2.7, 3.2}));
  CHECK(dst.to_vector<i64>() == std::vector<i64>{1, -2, 3, 1, -2, 3});
}

TEST_CASE("copy_ into a transposed view writes the right positions") {
  auto base = loom::zeros({2, 3});
  base.t().copy_(iota({3, 2}));
  CHECK(values(base) == std::vector<double>{0, 2, 4, 1, 3, 5});
}

TEST_CASE("an in-place op cannot change the tensor's dtype") {
  auto x = loom::ones({2}, DType::Int64);
  CHECK_THROWS_AS(x.add_(loom::tensor({0.5, 0.5})), loom::DTypeError);
  CHECK(x.to_vector<i64>() == std::vector<i64>{1, 1});
}

TEST_CASE("an in-place op cannot broadcast its destination") {
  auto x = loom::ones({3});
  CHECK_THROWS_AS(x.add_(loom::ones({2, 3})), loom::ShapeError);
}

}  // TEST_SUITE
