// Reductions over dims (negative, several, keepdim) against naive loops; max/min ties and NaN.
#include <limits>

#include "common/unit_helpers.hpp"

using namespace loom_test;
using loom::DType;

namespace {
// x[i][j][k] = (i*12 + j*4 + k) % 7 - 3: small values with repeats and negatives.
loom::Tensor sample() {
  std::vector<double> v(24);
  for (int i = 0; i < 24; ++i) v[i] = double(i % 7 - 3);
  return loom::from_vector(v, {2, 3, 4}, DType::Float32);
}
double at(const std::vector<double>& v, int i, int j, int k) { return v[i * 12 + j * 4 + k]; }
}  // namespace

TEST_SUITE("reductions") {

TEST_CASE("sum of everything") {
  auto x = iota({2, 3, 4});
  CHECK(x.sum().dim() == 0);
  CHECK(x.sum().item<double>() == 276.0);
  CHECK(loom::sum(loom::tensor({1, 2, 3})).dtype() == DType::Int64);
}

TEST_CASE("sum over one dim, with and without keepdim") {
  auto x = sample();
  const auto v = values(x);
  auto s = x.sum({1});
  CHECK(sizes_of(s) == std::vector<i64>{2, 4});
  std::vector<double> expected;
  for (int i = 0; i < 2; ++i)
    for (int k = 0; k < 4; ++k) expected.push_back(at(v, i, 0, k) + at(v, i, 1, k) + at(v, i, 2, k));
  CHECK(values(s) == expected);
  auto kept = x.sum({1}, true);
  CHECK(sizes_of(kept) == std::vector<i64>{2, 1, 4});
  CHECK(values(kept) == expected);
}

TEST_CASE("sum over negative and several dims") {
  auto x = sample();
  const auto v = values(x);
  auto last = x.sum({-1}, true);
  CHECK(sizes_of(last) == std::vector<i64>{2, 3, 1});
  std::vector<double> expected_last;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) {
      double acc = 0;
      for (int k = 0; k < 4; ++k) acc += at(v, i, j, k);
      expected_last.push_back(acc);
    }
  CHECK(values(last) == expected_last);
  auto outer = x.sum({0, -1});
  CHECK(sizes_of(outer) == std::vector<i64>{3});
  std::vector<double> expected_outer;
  for (int j = 0; j < 3; ++j) {
    double acc = 0;
    for (int i = 0; i < 2; ++i)
      for (int k = 0; k < 4; ++k) acc += at(v, i, j, k);
    expected_outer.push_back(acc);
  }
  CHECK(values(outer) == expected_outer);
}

TEST_CASE("sum of a transposed view reduces the logical dims") {
  auto x = iota({3, 4});
  CHECK(values(x.t().sum({1})) == std::vector<double>{12, 15, 18, 21});
}

TEST_CASE("sum of bool counts the true elements in int64") {
  auto s = loom::sum(loom::tensor({true, false, true, true}));
  CHECK(s.dtype() == DType::Int64);
  CHECK(s.item<i64>() == 3);
}

TEST_CASE("mean and prod") {
  auto x = loom::tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  CHECK(x.mean().item<double>() == doctest::Approx(3.5));
  CHECK(values(x.mean({0})) == std::vector<double>{2.5, 3.5, 4.5});
  CHECK(values(loom::prod(x, {1})) == std::vector<double>{6, 120});
  CHECK(loom::prod(x).item<double>() == 720.0);
  CHECK(loom::prod(loom::tensor({2, 3, 4})).item<i64>() == 24);
}

TEST_CASE("max and min along a dim pick the first index on ties") {
  auto x = loom::tensor({{1, 3, 3}, {2, 2, 0}});
  auto mx = x.max(1);
  CHECK(mx.values.to_vector<i64>() == std::vector<i64>{3, 2});
  CHECK(mx.indices.dtype() == DType::Int64);
  CHECK(mx.indices.to_vector<i64>() == std::vector<i64>{1, 0});
  auto mn = loom::min(x, 0);
  CHECK(mn.values.to_vector<i64>() == std::vector<i64>{1, 2, 0});
  CHECK(mn.indices.to_vector<i64>() == std::vector<i64>{0, 1, 1});
  auto kept = x.max(-1, true);
  CHECK(sizes_of(kept.values) == std::vector<i64>{2, 1});
  CHECK(sizes_of(kept.indices) == std::vector<i64>{2, 1});
}

TEST_CASE("argmax and argmin") {
  auto x = loom::tensor({{0.5, 4.0, 4.0}, {-1.0, -3.0, -3.0}});
  CHECK(x.argmax(1).to_vector<i64>() == std::vector<i64>{1, 0});
  CHECK(x.argmin(1).to_vector<i64>() == std::vector<i64>{0, 1});
  CHECK(sizes_of(x.argmax(0, true)) == std::vector<i64>{1, 3});
  CHECK(x.argmax(0).to_vector<i64>() == std::vector<i64>{0, 0, 0});
}

TEST_CASE("max and min propagate NaN and point at its first occurrence") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto x = loom::from_vector(std::vector<float>{1, nan, 3, nan});
  auto mx = loom::max(x, 0);
  CHECK(std::isnan(mx.values.item<double>()));
  CHECK(mx.indices.item<i64>() == 1);
  CHECK(std::isnan(loom::min(x, 0).values.item<double>()));
  CHECK(loom::argmin(x, 0).item<i64>() == 1);
  CHECK(std::isnan(x.max().item<double>()));
  CHECK(std::isnan(x.min().item<double>()));
}

TEST_CASE("max and min of everything") {
  auto x = sample();
  CHECK(x.max().item<double>() == 3.0);
  CHECK(x.min().item<double>() == -3.0);
  CHECK(x.max().dim() == 0);
}

}  // TEST_SUITE
