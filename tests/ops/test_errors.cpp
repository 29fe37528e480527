// Errors are typed and their messages name the op and what was found. Nothing may crash.
#include "common/unit_helpers.hpp"
#include "loom/backend.hpp"

using namespace loom_test;
using loom::DType;
using doctest::Contains;

TEST_SUITE("errors") {

TEST_CASE("matmul with mismatched inner dims is a ShapeError naming both shapes") {
  auto a = loom::zeros({2, 3});
  auto b = loom::zeros({4, 5});
  CHECK_THROWS_WITH_AS(loom::matmul(a, b), Contains("matmul"), loom::ShapeError);
  CHECK_THROWS_WITH_AS(loom::matmul(a, b), Contains("(4, 5)"), loom::ShapeError);
  CHECK_THROWS_AS(loom::bmm(loom::zeros({2, 2, 3}), loom::zeros({3, 3, 2})), loom::ShapeError);
}

TEST_CASE("matmul on int64 is a DTypeError naming the dtype") {
  auto a = loom::ones({2, 2}, DType::Int64);
  CHECK_THROWS_AS(loom::matmul(a, a), loom::DTypeError);
  CHECK_THROWS_WITH_AS(loom::matmul(a, a), Contains("int64"), loom::DTypeError);
}

TEST_CASE("numeric ops on bool are DTypeErrors") {
  auto b = loom::tensor({true, false});
  CHECK_THROWS_AS(loom::neg(b), loom::DTypeError);
  CHECK_THROWS_WITH_AS(loom::neg(b), Contains("neg"), loom::DTypeError);
}

TEST_CASE("where and masked_fill need a bool condition") {
  auto x = loom::ones({2});
  CHECK_THROWS_WITH_AS(loom::where(loom::ones({2}), x, x), Contains("where"), loom::DTypeError);
  CHECK_THROWS_WITH_AS(loom::masked_fill(x, loom::ones({2}), 0.0), Contains("masked_fill"),
                       loom::DTypeError);
}

TEST_CASE("index tensors must be int64") {
  auto x = loom::ones({3});
  CHECK_THROWS_AS(loom::index_select(x, 0, loom::tensor({0.0, 1.0})), loom::DTypeError);
  CHECK_THROWS_AS(loom::gather(x, 0, loom::tensor({0.0})), loom::DTypeError);
}

TEST_CASE("integer pow with a negative exponent is a ValueError") {
  CHECK_THROWS_AS(loom::pow(loom::tensor({2, 3}), loom::tensor({-1, 1})), loom::ValueError);
  CHECK_THROWS_AS(loom::pow(loom::tensor({2, 3}), -1), loom::ValueError);
}

TEST_CASE("out-of-range dims are IndexErrors naming the op") {
  auto x = loom::zeros({2, 3});
  CHECK_THROWS_WITH_AS(x.sum({2}), Contains("sum"), loom::IndexError);
  CHECK_THROWS_AS(x.sum({-3}), loom::IndexError);
  CHECK_THROWS_AS(x.transpose(0, 5), loom::IndexError);
  CHECK_THROWS_AS(x.max(2), loom::IndexError);
  CHECK_THROWS_AS(x.unsqueeze(4), loom::IndexError);
  CHECK_THROWS_AS(x.permute({0, 0}), loom::Error);
  CHECK_THROWS_AS(loom::cat({x, x}, 2), loom::IndexError);
}

TEST_CASE("out-of-range indices are IndexErrors") {
  auto x = loom::zeros({3, 2});
  CHECK_THROWS_AS(x.select(0, 3), loom::IndexError);
  CHECK_THROWS_AS(x.select(0, -4), loom::IndexError);
  CHECK_THROWS_WITH_AS(loom::index_select(x, 0, loom::tensor({0, 5})), Contains("index_select"),
                       loom::IndexError);
  CHECK_THROWS_WITH_AS(loom::index_select(x, 0, loom::tensor({0, 5})), Contains("5"),
                       loom::IndexError);
  CHECK_THROWS_AS(loom::index_select(x, 0, loom::tensor({-1})), loom::IndexError);
  CHECK_THROWS_AS(loom::gather(x, 0, loom::tensor({{3, 0}})), loom::IndexError);
  CHECK_THROWS_AS(loom::scatter_add(x, 0, loom::tensor({{3, 0}}), loom::ones({1, 2})),
                  loom::IndexError);
  CHECK_THROWS_AS(x.narrow(0, 2, 2), loom::Error);
}

TEST_CASE("view on an incompatible layout is a ShapeError; reshape copies instead") {
  auto t = iota({2, 3}).t();
  CHECK_THROWS_WITH_AS(t.view({6}), Contains("view"), loom::ShapeError);
  CHECK_NOTHROW(t.reshape({6}));
}

TEST_CASE("view and reshape to a different element count are ShapeErrors") {
  auto x = iota({2, 3});
  CHECK_THROWS_WITH_AS(x.view({5}), Contains("(5"), loom::ShapeError);
  CHECK_THROWS_AS(x.reshape({4, 2}), loom::ShapeError);
  CHECK_THROWS_AS(x.view({-1, -1}), loom::Error);
  CHECK_THROWS_AS(x.expand({2, 4}), loom::ShapeError);
}

TEST_CASE("item() on many elements is a ShapeError naming the shape") {
  CHECK_THROWS_WITH_AS(loom::zeros({2, 2}).item<float>(), Contains("(2, 2)"), loom::ShapeError);
  CHECK_THROWS_AS(loom::zeros({0}).item<float>(), loom::ShapeError);
}

TEST_CASE("bad device strings are DeviceErrors naming the text") {
  CHECK_THROWS_WITH_AS(loom::Device("gpu:0"), Contains("gpu:0"), loom::DeviceError);
  CHECK_THROWS_AS(loom::Device("cuda:x"), loom::DeviceError);
  CHECK_THROWS_AS(loom::Device(""), loom::DeviceError);
  CHECK_THROWS_AS(loom::zeros({2}, "gpu"), loom::DeviceError);
  CHECK(loom::Device("cuda:1").index == 1);
  CHECK(loom::Device("cpu") == loom::kCPU);
}

TEST_CASE("a device with no backend (or no hardware) is a DeviceError") {
  CHECK_THROWS_WITH_AS(loom::zeros({2}, "cuda:0"), Contains("cuda"), loom::DeviceError);
  CHECK_THROWS_WITH_AS(loom::backend_named("no-such-backend"), Contains("no-such-backend"),
                       loom::Error);
}

TEST_CASE("from_vector with the wrong number of values is a ShapeError") {
  CHECK_THROWS_AS(loom::from_vector(std::vector<float>{1, 2, 3}, {2, 2}), loom::ShapeError);
  CHECK_THROWS_AS(loom::tensor({{1, 2}, {3}}), loom::ShapeError);
}

TEST_CASE("negative sizes and a zero step are ValueErrors") {
  CHECK_THROWS_AS(loom::zeros({2, -1}), loom::ValueError);
  CHECK_THROWS_AS(loom::arange(0, 5, 0), loom::ValueError);
}

TEST_CASE("cat and stack of mismatched shapes are ShapeErrors") {
  CHECK_THROWS_AS(loom::cat({loom::zeros({2, 3}), loom::zeros({2, 4})}, 0), loom::ShapeError);
  CHECK_THROWS_AS(loom::stack({loom::zeros({2}), loom::zeros({3})}), loom::ShapeError);
}

TEST_CASE("an undefined tensor is a ValueError, not a crash") {
  loom::Tensor undefined;
  CHECK_FALSE(undefined.defined());
  CHECK_THROWS_AS(undefined.sizes(), loom::ValueError);
  CHECK_THROWS_AS(loom::add(undefined, loom::ones({1})), loom::ValueError);
}

TEST_CASE("typed errors are also loom::Error and std::runtime_error") {
  CHECK_THROWS_AS(loom::zeros({2, 3}) + loom::zeros({4, 3}), loom::Error);
  CHECK_THROWS_AS(loom::zeros({2, 3}) + loom::zeros({4, 3}), std::runtime_error);
}

}  // TEST_SUITE
