// Shape: inline storage up to rank 6, heap beyond, and tensors of rank 8.
#include "common/unit_helpers.hpp"

using loom::Shape;
using namespace loom_test;

namespace {
// True when the entries live inside the Shape object itself (no heap allocation).
bool stored_inline(const Shape& s) {
  auto* begin = reinterpret_cast<const char*>(&s);
  auto* p = reinterpret_cast<const char*>(s.data());
  return p >= begin && p < begin + sizeof(Shape);
}
}  // namespace

TEST_SUITE("shape") {

TEST_CASE("shapes up to rank 6 are stored inline") {
  for (std::size_t rank = 0; rank <= 6; ++rank) {
    Shape s(rank, 3);
    INFO("rank " << rank);
    CHECK(stored_inline(s));
    CHECK(s.size() == rank);
  }
  Shape copied = Shape{1, 2, 3, 4, 5, 6};
  CHECK(stored_inline(copied));
}

TEST_CASE("rank-8 shapes keep their entries through copy, move and growth") {
  Shape s{1, 2, 3, 4, 5, 6};
  s.push_back(7);
  s.push_back(8);
  CHECK_FALSE(stored_inline(s));
  CHECK(s.vec() == std::vector<i64>{1, 2, 3, 4, 5, 6, 7, 8});
  Shape copy = s;
  Shape moved = std::move(copy);
  CHECK(moved == s);
  CHECK(moved.numel() == 40320);
  s.erase(0);
  s.insert(7, 9);
  CHECK(s.vec() == std::vector<i64>{2, 3, 4, 5, 6, 7, 8, 9});
}

TEST_CASE("numel and str of shapes") {
  CHECK(Shape{}.numel() == 1);
  CHECK(Shape{2, 0, 3}.numel() == 0);
  CHECK(Shape{2, 3, 4}.str() == "(2, 3, 4)");
}

TEST_CASE("a rank-8 tensor works like any other") {
  auto x = iota({1, 2, 1, 2, 1, 2, 1, 2});
  CHECK(x.dim() == 8);
  CHECK(strides_of(x) == std::vector<i64>{16, 8, 8, 4, 4, 2, 2, 1});
  CHECK(x.sum().item<double>() == doctest::Approx(120.0));
  auto t = x.transpose(1, 7);
  CHECK(sizes_of(t) == std::vector<i64>{1, 2, 1, 2, 1, 2, 1, 2});
  CHECK(strides_of(t) == std::vector<i64>{16, 1, 8, 4, 4, 2, 2, 8});
  // Element (0,1,0,0,0,0,0,0) of the transpose is storage position 1.
  CHECK(t.contiguous().to_vector<double>()[8] == 1.0);
}

}  // TEST_SUITE
