// index_select, gather, scatter_add, masked_fill, where, cat and stack on small hand-computed cases.
#include "common/unit_helpers.hpp"

using namespace loom_test;
using loom::DType;

TEST_SUITE("indexing") {

TEST_CASE("index_select picks rows or columns, repeats allowed") {
  auto x = iota({3, 4});
  auto rows = loom::index_select(x, 0, loom::tensor({2, 0, 2}));
  CHECK(sizes_of(rows) == std::vector<i64>{3, 4});
  CHECK(values(rows) == std::vector<double>{8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11});
  auto cols = loom::index_select(x, -1, loom::tensor({3, 1}));
  CHECK(sizes_of(cols) == std::vector<i64>{3, 2});
  CHECK(values(cols) == std::vector<double>{3, 1, 7, 5, 11, 9});
}

TEST_CASE("gather along dim 1 (PyTorch's documentation example)") {
  auto x = loom::tensor({{1, 2}, {3, 4}});
  auto r = loom::gather(x, 1, loom::tensor({{0, 0}, {1, 0}}));
  CHECK(r.to_vector<i64>() == std::vector<i64>{1, 1, 4, 3});
}

TEST_CASE("gather along dim 0 with an index smaller than the input") {
  auto x = iota({3, 3});
  auto r = loom::gather(x, 0, loom::tensor({{2, 0, 1}}));
  CHECK(sizes_of(r) == std::vector<i64>{1, 3});
  CHECK(values(r) == std::vector<double>{6, 1, 5});
}

TEST_CASE("scatter_add accumulates repeated indices and leaves the input untouched") {
  auto x = loom::zeros({3, 5});
  auto index = loom::tensor({{0, 1, 2, 0, 0}, {1, 2, 0, 0, 0}});
  auto src = loom::ones({2, 5});
  auto r = loom::scatter_add(x, 0, index, src);
  CHECK(values(r) == std::vector<double>{1, 0, 1, 2, 2,  //
                                         1, 1, 0, 0, 0,  //
                                         0, 1, 1, 0, 0});
  CHECK(values(x) == std::vector<double>(15, 0.0));
}

TEST_CASE("scatter_add along dim 1 adds onto existing values") {
  auto x = loom::tensor({{10.0, 20.0, 30.0}});
  auto r = loom::scatter_add(x, 1, loom::tensor({{2, 2, 0}}), loom::tensor({{1.0, 2.0, 4.0}}));
  CHECK(values(r) == std::vector<double>{14, 20, 33});
}

TEST_CASE("masked_fill replaces where the mask is true, broadcasting the mask") {
  auto x = iota({2, 3});
  auto r = loom::masked_fill(x, loom::tensor({true, false, true}), -1.0);
  CHECK(values(r) == std::vector<double>{-1, 1, -1, -1, 4, -1});
  CHECK(values(x) == std::vector<double>{0, 1, 2, 3, 4, 5});
}

TEST_CASE("where picks from a or b and broadcasts all three") {
  auto cond = loom::tensor({{true}, {false}});  // (2, 1)
  auto r = loom::where(cond, loom::tensor({1.0, 2.0, 3.0}), loom::tensor({-1.0}));
  CHECK(sizes_of(r) == std::vector<i64>{2, 3});
  CHECK(values(r) == std::vector<double>{1, 2, 3, -1, -1, -1});
  auto s = loom::where(loom::tensor({true, false}), loom::tensor({5, 6}), 0);
  CHECK(s.to_vector<i64>() == std::vector<i64>{5, 0});
}

TEST_CASE("where promotes a and b as PyTorch") {
  auto r = loom::where(loom::tensor({true, false}), loom::tensor({1, 2}), loom::tensor({0.5, 0.5}));
  CHECK(r.dtype() == DType::Float32);
  CHECK(values(r) == std::vector<double>{1, 0.5});
}

TEST_CASE("cat joins along an existing dim") {
  auto a = iota({2, 2});
  auto b = iota({1, 2}) + 10.0;
  auto r0 = loom::cat({a, b}, 0);
  CHECK(sizes_of(r0) == std::vector<i64>{3, 2});
  CHECK(values(r0) == std::vector<double>{0, 1, 2, 3, 10, 11});
  auto r1 = loom::cat({a, a.t()}, -1);
  CHECK(sizes_of(r1) == std::vector<i64>{2, 4});
  CHECK(values(r1) == std::vector<double>{0, 1, 0, 2, 2, 3, 1, 3});
}

TEST_CASE("stack joins along a new dim") {
  auto a = loom::tensor({1, 2});
  auto b = loom::tensor({3, 4});
  auto r0 = loom::stack({a, b});
  CHECK(sizes_of(r0) == std::vector<i64>{2, 2});
  CHECK(r0.to_vector<i64>() == std::vector<i64>{1, 2, 3, 4});
  auto r1 = loom::stack({a, b}, 1);
  CHECK(r1.to_vector<i64>() == std::vector<i64>{1, 3, 2, 4});
  CHECK(sizes_of(loom::stack({a, b, a}, -1)) == std::vector<i64>{2, 3});
}

}  // TEST_SUITE
