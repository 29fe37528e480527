// str() prints as PyTorch 1.13 does (expected strings are PyTorch's output for the same data).
#include <sstream>

#include "common/unit_helpers.hpp"

using namespace loom_test;
using loom::DType;

TEST_SUITE("print") {

TEST_CASE("integral-valued float32 matrix prints with trailing dots") {
  auto x = loom::tensor({{1.0, 2.0}, {3.0, 4.0}});
  CHECK(x.str() == "tensor([[1., 2.],\n        [3., 4.]])");
}

TEST_CASE("float32 with fractions prints four decimals, right-aligned") {
  CHECK(loom::tensor({1.5, -2.25}).str() == "tensor([ 1.5000, -2.2500])");
  CHECK(loom::tensor({0.1, 100.0}).str() == "tensor([  0.1000, 100.0000])");
}

TEST_CASE("0-dim tensors print their value alone") {
  CHECK(loom::scalar_tensor(3.5, DType::Float32).str() == "tensor(3.5000)");
  CHECK(loom::scalar_tensor(7, DType::Int64).str() == "tensor(7)");
}

TEST_CASE("int64 tensors print without dtype, padded to equal width") {
  CHECK(loom::tensor({1, 2, 3}).str() == "tensor([1, 2, 3])");
  CHECK(loom::tensor({1, -10}).str() == "tensor([  1, -10])");
  CHECK(loom::tensor({{1, 2}, {3, 4}}).str() == "tensor([[1, 2],\n        [3, 4]])");
}

TEST_CASE("bool tensors print True and False") {
  CHECK(loom::tensor({true, false}).str() == "tensor([ True, False])");
}

TEST_CASE("3-D tensors separate their matrices with a blank line") {
  auto x = iota({2, 1, 2}, DType::Int64);
  CHECK(x.str() == "tensor([[[0, 1]],\n\n        [[2, 3]]])");
}

TEST_CASE("non-default dtypes are named") {
  auto d = loom::tensor({1.0, 2.0}, DType::Float64).str();
  CHECK(d.rfind("tensor([1., 2.], dtype=", 0) == 0);
  CHECK(d.find("float64") != std::string::npos);
  auto u = loom::tensor({1, 2}, DType::UInt8).str();
  CHECK(u.rfind("tensor([1, 2], dtype=", 0) == 0);
  CHECK(u.find("uint8") != std::string::npos);
}

TEST_CASE("a large tensor is summarised with ...") {
  auto s = loom::arange(2000).str();
  CHECK(s == "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])");
  CHECK(s.find("...") != std::string::npos);
  CHECK(s.find("1000") == std::string::npos);
  auto m = loom::zeros({100, 100}).str();
  CHECK(m.find("...") != std::string::npos);
  CHECK(m.size() < 1000);
}

TEST_CASE("a transposed view prints its logical order") {
  CHECK(iota({2, 2}, DType::Int64).t().str() == "tensor([[0, 2],\n        [1, 3]])");
}

TEST_CASE("operator<< prints str()") {
  std::ostringstream os;
  auto x = loom::tensor({1, 2});
  os << x;
  CHECK(os.str() == x.str());
}

}  // TEST_SUITE
