// Broadcasting and type promotion, checked against what PyTorch 1.13 does for the same inputs.
#include "common/unit_helpers.hpp"

using namespace loom_test;
using loom::DType;
using loom::Tensor;

TEST_SUITE("broadcast") {

TEST_CASE("broadcast_shapes aligns trailing dims") {
  CHECK(loom::broadcast_shapes({2, 1, 4}, {3, 1}) == loom::Shape{2, 3, 4});
  CHECK(loom::broadcast_shapes({}, {5}) == loom::Shape{5});
  CHECK(loom::broadcast_shapes({0, 1}, {1, 3}) == loom::Shape{0, 3});
  CHECK(loom::broadcast_shapes({1}, {0}) == loom::Shape{0});
}

TEST_CASE("broadcast_shapes refuses sizes that differ and are not 1") {
  CHECK_THROWS_AS(loom::broadcast_shapes({2, 3}, {4, 3}), loom::ShapeError);
  CHECK_THROWS_WITH_AS(loom::broadcast_shapes({2, 3}, {4, 3}), doctest::Contains("(2, 3)"),
                       loom::ShapeError);
  CHECK_THROWS_AS(loom::broadcast_shapes({2}, {0}), loom::ShapeError);
}

TEST_CASE("add broadcasts a column against a row") {
  auto col = loom::tensor({{1.0}, {2.0}});      // (2, 1)
  auto row = loom::tensor({10.0, 20.0, 30.0});  // (3)
  auto s = col + row;
  CHECK(sizes_of(s) == std::vector<i64>{2, 3});
  CHECK(values(s) == std::vector<double>{11, 21, 31, 12, 22, 32});
}

TEST_CASE("a 0-dim tensor broadcasts against anything") {
  auto s = loom::tensor({{1, 2}, {3, 4}}) * loom::scalar_tensor(3, DType::Int64);
  CHECK(s.to_vector<i64>() == std::vector<i64>{3, 6, 9, 12});
}

TEST_CASE("a binary op with mismatched shapes names the op and both shapes") {
  auto a = loom::zeros({2, 3});
  auto b = loom::zeros({4, 3});
  CHECK_THROWS_AS(a + b, loom::ShapeError);
  CHECK_THROWS_WITH_AS(a + b, doctest::Contains("add"), loom::ShapeError);
  CHECK_THROWS_WITH_AS(a * b, doctest::Contains("(4, 3)"), loom::ShapeError);
}

}  // TEST_SUITE

TEST_SUITE("promotion") {

struct TensorCase {
  const char* what;
  DType a, b;
  bool a_zero_dim, b_zero_dim;
  DType expected;
};

TEST_CASE("result_type of two tensors follows PyTorch") {
  const TensorCase cases[] = {
      {"int64 + float32", DType::Int64, DType::Float32, false, false, DType::Float32},
      {"uint8 + int64", DType::UInt8, DType::Int64, false, false, DType::Int64},
      {"bool + bool", DType::Bool, DType::Bool, false, false, DType::Bool},
      {"bool + uint8", DType::Bool, DType::UInt8, false, false, DType::UInt8},
      {"float32 + float64 (both 1-D)", DType::Float32, DType::Float64, false, false, DType::Float64},
      {"float32 + 0-dim float64", DType::Float32, DType::Float64, false, true, DType::Float32},
      {"int64 + 0-dim float64", DType::Int64, DType::Float64, false, true, DType::Float64},
      {"uint8 + 0-dim int64", DType::UInt8, DType::Int64, false, true, DType::UInt8},
      {"0-dim float64 + 0-dim float32", DType::Float64, DType::Float32, true, true, DType::Float64},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    Tensor a = c.a_zero_dim ? loom::zeros({}, c.a) : loom::zeros({2}, c.a);
    Tensor b = c.b_zero_dim ? loom::zeros({}, c.b) : loom::zeros({2}, c.b);
    CHECK(loom::result_type(a, b) == c.expected);
  }
}

TEST_CASE("result_type of a tensor and a scalar follows PyTorch's wrapped numbers") {
  CHECK(loom::result_type(loom::zeros({2}, DType::Int64), 1.5) == DType::Float32);
  CHECK(loom::result_type(loom::zeros({2}, DType::Float64), 1.5) == DType::Float64);
  CHECK(loom::result_type(loom::zeros({2}, DType::Float32), 2) == DType::Float32);
  CHECK(loom::result_type(loom::zeros({2}, DType::UInt8), 1) == DType::UInt8);
  CHECK(loom::result_type(loom::zeros({2}, DType::UInt8), 1.5) == DType::Float32);
  CHECK(loom::result_type(loom::zeros({2}, DType::Bool), 1) == DType::Int64);
  CHECK(loom::result_type(loom::zeros({2}, DType::Bool), true) == DType::Bool);
  CHECK(loom::result_type(loom::zeros({2}, DType::Int64), 3) == DType::Int64);
}

TEST_CASE("int64 + float32 computes in float32") {
  auto r = loom::tensor({1, 2}) + loom::tensor({0.5, 0.25});
  CHECK(r.dtype() == DType::Float32);
  CHECK(values(r) == std::vector<double>{1.5, 2.25});
}

TEST_CASE("uint8 + int64 computes in int64") {
  auto r = loom::tensor({200, 100}, DType::UInt8) + loom::tensor({100, -200});
  CHECK(r.dtype() == DType::Int64);
  CHECK(r.to_vector<i64>() == std::vector<i64>{300, -100});
}

TEST_CASE("bool + bool adds to bool, as PyTorch (True + True is True)") {
  auto r = loom::tensor({true, true, false}) + loom::tensor({true, false, false});
  CHECK(r.dtype() == DType::Bool);
  CHECK(r.to_vector<bool>() == std::vector<bool>{true, true, false});
}

TEST_CASE("int64 tensor + 1.5 is float32") {
  auto r = loom::tensor({1, 2}) + 1.5;
  CHECK(r.dtype() == DType::Float32);
  CHECK(values(r) == std::vector<double>{2.5, 3.5});
}

TEST_CASE("float32 tensor + 0-dim float64 tensor stays float32") {
  auto r = loom::tensor({1.0, 2.0}) + loom::scalar_tensor(0.5, DType::Float64);
  CHECK(r.dtype() == DType::Float32);
  CHECK(values(r) == std::vector<double>{1.5, 2.5});
}

TEST_CASE("float32 + float64, both 1-D, is float64") {
  auto r = loom::tensor({1.0}) + loom::tensor({0.1}, DType::Float64);
  CHECK(r.dtype() == DType::Float64);
  CHECK(r.item<double>() == doctest::Approx(1.1).epsilon(1e-12));
}

TEST_CASE("int64 / int64 is true division in float32") {
  auto r = loom::tensor({7, -7, 1}) / loom::tensor({2, 2, 3});
  CHECK(r.dtype() == DType::Float32);
  check_close(values(r), {3.5, -3.5, 1.0 / 3.0}, 1e-6);
  CHECK((loom::tensor({3}) / 2).dtype() == DType::Float32);
}

TEST_CASE("comparisons give bool") {
  auto a = loom::tensor({1, 5, 3});
  auto b = loom::tensor({2.0, 5.0, 1.0});
  auto lt = a < b;
  CHECK(lt.dtype() == DType::Bool);
  CHECK(lt.to_vector<bool>() == std::vector<bool>{true, false, false});
  CHECK((a == b).to_vector<bool>() == std::vector<bool>{false, true, false});
  CHECK((a >= 3).to_vector<bool>() == std::vector<bool>{false, true, true});
  CHECK((a != 3).dtype() == DType::Bool);
}

TEST_CASE("logical_and on non-bool inputs treats nonzero as true, as PyTorch") {
  auto r = loom::logical_and(loom::tensor({0.0, 2.0, -1.0}), loom::tensor({1.0, 0.5, 0.0}));
  CHECK(r.dtype() == DType::Bool);
  CHECK(r.to_vector<bool>() == std::vector<bool>{false, true, false});
}

TEST_CASE("unary float functions promote integers to float32") {
  auto r = loom::sqrt(loom::tensor({4, 9}));
  CHECK(r.dtype() == DType::Float32);
  CHECK(values(r) == std::vector<double>{2, 3});
  CHECK(loom::neg(loom::tensor({4, 9})).dtype() == DType::Int64);
}

}  // TEST_SUITE
