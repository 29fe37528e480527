// Factories, dtype conversions and reading values back to the host.
#include "common/unit_helpers.hpp"

using namespace loom_test;
using loom::DType;

TEST_SUITE("factories") {

TEST_CASE("zeros, ones and full have the requested shape, dtype and value") {
  auto z = loom::zeros({2, 3});
  CHECK(z.dtype() == DType::Float32);
  CHECK(sizes_of(z) == std::vector<i64>{2, 3});
  CHECK(values(z) == std::vector<double>(6, 0.0));
  auto o = loom::ones({4}, DType::Int64);
  CHECK(o.dtype() == DType::Int64);
  CHECK(o.to_vector<i64>() == std::vector<i64>{1, 1, 1, 1});
  auto f = loom::full({2, 2}, 2.5, DType::Float64);
  CHECK(f.dtype() == DType::Float64);
  CHECK(values(f) == std::vector<double>(4, 2.5));
  CHECK(loom::full({3}, true, DType::Bool).to_vector<bool>() == std::vector<bool>{true, true, true});
  CHECK(loom::zeros({}).dim() == 0);
  CHECK(loom::zeros({}).numel() == 1);
  CHECK(loom::zeros({0, 3}).numel() == 0);
}

TEST_CASE("the _like factories copy shape and dtype") {
  auto x = loom::ones({2, 3}, DType::Float64);
  CHECK(loom::zeros_like(x).dtype() == DType::Float64);
  CHECK(sizes_of(loom::ones_like(x)) == std::vector<i64>{2, 3});
  CHECK(values(loom::full_like(x, 4)) == std::vector<double>(6, 4.0));
}

TEST_CASE("arange: int64 for integer arguments, float32 otherwise") {
  auto a = loom::arange(5);
  CHECK(a.dtype() == DType::Int64);
  CHECK(a.to_vector<i64>() == std::vector<i64>{0, 1, 2, 3, 4});
  CHECK(loom::arange(1, 10, 3).to_vector<i64>() == std::vector<i64>{1, 4, 7});
  CHECK(loom::arange(5, 0, -2).to_vector<i64>() == std::vector<i64>{5, 3, 1});
  auto f = loom::arange(0, 1, 0.25);
  CHECK(f.dtype() == DType::Float32);
  CHECK(values(f) == std::vector<double>{0, 0.25, 0.5, 0.75});
  CHECK(loom::arange(0, 3, 1, DType::Float64).dtype() == DType::Float64);
  CHECK(loom::arange(0).numel() == 0);
}

TEST_CASE("linspace includes both ends") {
  auto l = loom::linspace(0.0, 1.0, 5);
  CHECK(l.dtype() == DType::Float32);
  CHECK(values(l) == std::vector<double>{0, 0.25, 0.5, 0.75, 1});
  CHECK(values(loom::linspace(-1.0, 1.0, 1)) == std::vector<double>{-1});
  CHECK(loom::linspace(0.0, 1.0, 0).numel() == 0);
  CHECK(loom::linspace(0.0, 1.0, 3, DType::Float64).dtype() == DType::Float64);
}

TEST_CASE("eye is the identity") {
  auto e = loom::eye(3);
  CHECK(values(e) == std::vector<double>{1, 0, 0, 0, 1, 0, 0, 0, 1});
  CHECK(loom::eye(2, DType::Int64).dtype() == DType::Int64);
}

TEST_CASE("tensor({...}) takes its dtype from the literals") {
  auto i = loom::tensor({1, 2, 3});
  CHECK(i.dtype() == DType::Int64);
  CHECK(i.to_vector<i64>() == std::vector<i64>{1, 2, 3});
  auto f = loom::tensor({1.5, 2.5});
  CHECK(f.dtype() == DType::Float32);
  CHECK(values(f) == std::vector<double>{1.5, 2.5});
  auto b = loom::tensor({true, false});
  CHECK(b.dtype() == DType::Bool);
  CHECK(b.to_vector<bool>() == std::vector<bool>{true, false});
  auto m = loom::tensor({{1, 2}, {3, 4}});
  CHECK(sizes_of(m) == std::vector<i64>{2, 2});
  CHECK(m.to_vector<i64>() == std::vector<i64>{1, 2, 3, 4});
  CHECK(loom::tensor({1, 2}, DType::Float64).dtype() == DType::Float64);
}

TEST_CASE("from_vector copies host values") {
  std::vector<float> host{1, 2, 3, 4, 5, 6};
  auto t = loom::from_vector(host, {2, 3});
  host[0] = 100;
  CHECK(t.dtype() == DType::Float32);
  CHECK(sizes_of(t) == std::vector<i64>{2, 3});
  CHECK(values(t) == std::vector<double>{1, 2, 3, 4, 5, 6});
  auto u8 = loom::from_vector(std::vector<std::uint8_t>{0, 255});
  CHECK(u8.dtype() == DType::UInt8);
  CHECK(u8.to_vector<i64>() == std::vector<i64>{0, 255});
  auto b = loom::from_vector(std::vector<bool>{true, false, true});
  CHECK(b.dtype() == DType::Bool);
  CHECK(b.to_vector<bool>() == std::vector<bool>{true, false, true});
}

TEST_CASE("to(dtype): float to int truncates toward zero") {
  auto f = loom::tensor({-2.7, -0.5, 0.5, 2.7});
  auto i = f.to(DType::Int64);
  CHECK(i.dtype() == DType::Int64);
  CHECK(i.to_vector<i64>() == std::vector<i64>{-2, 0, 0, 2});
  CHECK(loom::tensor({0.9, 200.7}).to(DType::UInt8).to_vector<i64>() == std::vector<i64>{0, 200});
}

TEST_CASE("to(Bool) is x != 0") {
  auto b = loom::tensor({0.0, 0.5, -1.0, 0.0}).to(DType::Bool);
  CHECK(b.dtype() == DType::Bool);
  CHECK(b.to_vector<bool>() == std::vector<bool>{false, true, true, false});
  CHECK(loom::tensor({0, 3}).to(DType::Bool).to_vector<bool>() == std::vector<bool>{false, true});
}

TEST_CASE("to(dtype) widening and from bool") {
  CHECK(values(loom::tensor({true, false}).to(DType::Float32)) == std::vector<double>{1, 0});
  auto big = loom::tensor({1 << 30, -(1 << 30)}).to(DType::Float64);
  CHECK(values(big) == std::vector<double>{1 << 30, -(1 << 30)});
  CHECK(loom::tensor({0.1}).to(DType::Float64).item<double>() == doctest::Approx(0.1).epsilon(1e-7));
}

TEST_CASE("to(same dtype) returns the tensor itself") {
  auto x = loom::ones({3});
  CHECK(x.to(DType::Float32).is_alias_of(x));
  CHECK(x.to(loom::kCPU).is_alias_of(x));
}

TEST_CASE("item and to_vector convert to the requested type") {
  CHECK(loom::full({1}, 3.75).item<float>() == 3.75f);
  CHECK(loom::full({1, 1}, 3.75).item<i64>() == 3);
  CHECK(loom::scalar_tensor(7, DType::Int64).item<double>() == 7.0);
  CHECK(loom::tensor({1.5, -2.5}).to_vector<i64>() == std::vector<i64>{1, -2});
  // to_vector of a non-contiguous view is in logical row-major order.
  CHECK(iota({2, 3}).t().to_vector<i64>() == std::vector<i64>{0, 3, 1, 4, 2, 5});
}

}  // TEST_SUITE
