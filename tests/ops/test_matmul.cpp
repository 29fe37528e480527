// matmul follows torch.matmul's shape rules; values against a naive triple loop.
#include "common/unit_helpers.hpp"

using namespace loom_test;
using loom::DType;
using loom::Tensor;

namespace {
// Deterministic values in [-1, 1] so that the test needs no RNG.
Tensor values_tensor(const loom::Shape& shape, int salt, DType dtype = DType::Float32) {
  std::vector<double> v(static_cast<std::size_t>(shape.numel()));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = double((i * 37 + salt * 11) % 41) / 20.0 - 1.0;
  return loom::from_vector(v, shape, dtype);
}

// Naive batched product of row-major (B, M, K) and (B, K, N) host arrays.
std::vector<double> naive_bmm(const std::vector<double>& a, const std::vector<double>& b, i64 B,
                              i64 M, i64 K, i64 N) {
  std::vector<double> out(static_cast<std::size_t>(B * M * N), 0.0);
  for (i64 z = 0; z < B; ++z)
    for (i64 i = 0; i < M; ++i)
      for (i64 j = 0; j < N; ++j) {
        double acc = 0;
        for (i64 k = 0; k < K; ++k) acc += a[(z * M + i) * K + k] * b[(z * K + k) * N + j];
        out[(z * M + i) * N + j] = acc;
      }
  return out;
}
}  // namespace

TEST_SUITE("matmul") {

TEST_CASE("1-D . 1-D is a 0-dim dot product") {
  auto r = loom::matmul(loom::tensor({1.0, 2.0, 3.0}), loom::tensor({4.0, 5.0, 6.0}));
  CHECK(r.dim() == 0);
  CHECK(r.item<double>() == 32.0);
}

TEST_CASE("2-D . 1-D and 1-D . 2-D drop the vector dim") {
  auto m = values_tensor({3, 4}, 1);
  auto v = values_tensor({4}, 2);
  auto mv = loom::matmul(m, v);
  CHECK(sizes_of(mv) == std::vector<i64>{3});
  check_close(values(mv), naive_bmm(values(m), values(v), 1, 3, 4, 1));
  auto w = values_tensor({3}, 3);
  auto vm = loom::matmul(w, m);
  CHECK(sizes_of(vm) == std::vector<i64>{4});
  check_close(values(vm), naive_bmm(values(w), values(m), 1, 1, 3, 4));
}

TEST_CASE("2-D . 2-D against a naive loop, including transposed operands") {
  auto a = values_tensor({5, 7}, 4);
  auto b = values_tensor({7, 3}, 5);
  check_close(values(a.matmul(b)), naive_bmm(values(a), values(b), 1, 5, 7, 3));
  auto at = values_tensor({7, 5}, 6).t();
  auto bt = values_tensor({3, 7}, 7).t();
  check_close(values(loom::matmul(at, bt)), naive_bmm(values(at), values(bt), 1, 5, 7, 3));
}

TEST_CASE("batched matmul broadcasts the batch dims") {
  auto a = values_tensor({2, 1, 3, 4}, 8);
  auto b = values_tensor({5, 4, 2}, 9);
  auto r = loom::matmul(a, b);
  REQUIRE(sizes_of(r) == std::vector<i64>{2, 5, 3, 2});
  // Expand both operands to (2, 5, ...) by hand, then loop.
  auto ae = values(a.expand({2, 5, 3, 4}));
  auto be = values(b.expand({2, 5, 4, 2}));
  check_close(values(r), naive_bmm(ae, be, 10, 3, 4, 2));
}

TEST_CASE("batched matmul with a 1-D operand") {
  auto a = values_tensor({2, 3, 4}, 10);
  auto v = values_tensor({4}, 11);
  auto r = loom::matmul(a, v);
  CHECK(sizes_of(r) == std::vector<i64>{2, 3});
  check_close(values(r), naive_bmm(values(a), values(v.expand({2, 4})), 2, 3, 4, 1));
}

TEST_CASE("bmm in float64") {
  auto a = values_tensor({3, 2, 4}, 12, DType::Float64);
  auto b = values_tensor({3, 4, 5}, 13, DType::Float64);
  auto r = loom::bmm(a, b);
  CHECK(r.dtype() == DType::Float64);
  CHECK(sizes_of(r) == std::vector<i64>{3, 2, 5});
  check_close(values(r), naive_bmm(values(a), values(b), 3, 2, 4, 5), 1e-12, 1e-12);
}

TEST_CASE("matmul with an empty inner dim gives zeros") {
  auto r = loom::matmul(loom::zeros({2, 0}), loom::zeros({0, 3}));
  CHECK(sizes_of(r) == std::vector<i64>{2, 3});
  CHECK(values(r) == std::vector<double>(6, 0.0));
}

}  // TEST_SUITE
