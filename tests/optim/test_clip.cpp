// clip_grad_norm_ and clip_grad_value_ against values worked out by hand.
#include "helpers.hpp"
#include "loom/optim/clip.hpp"

using namespace loom_optim_test;
namespace optim = loom::optim;

namespace {
// Two parameters with gradients (3, −4) and (12): ‖·‖₂ = 13, ‖·‖₁ = 19, ‖·‖∞ = 12.
struct TwoParams {
  loom::Tensor a = leaf({0.0, 0.0});
  loom::Tensor b = loom::zeros({1}, loom::DType::Float64).requires_grad_();
  TwoParams() {
    a.set_grad(loom::tensor({3.0, -4.0}, loom::DType::Float64));
    b.set_grad(loom::tensor({12.0}, loom::DType::Float64));
  }
  std::vector<double> grads() const {
    auto v = a.grad().to_vector<double>();
    v.push_back(b.grad().item<double>());
    return v;
  }
};
void check_values(const std::vector<double>& found, const std::vector<double>& expected) {
  REQUIRE(found.size() == expected.size());
  for (std::size_t i = 0; i < found.size(); ++i) CHECK(found[i] == doctest::Approx(expected[i]).epsilon(1e-12));
}
}  // namespace

TEST_SUITE("clip") {

TEST_CASE("clip_grad_norm_: 2-norm over all gradients together") {
  TwoParams t;
  const double total = optim::clip_grad_norm_({t.a, t.b}, 10.0);
  CHECK(total == doctest::Approx(13.0).epsilon(1e-15));
  const double c = 10.0 / (13 + 1e-6);  // a coefficient in (0.5, 1): clipped, not halved
  check_values(t.grads(), {3 * c, -4 * c, 12 * c});
}

TEST_CASE("clip_grad_norm_: 1-norm and inf-norm") {
  TwoParams one;
  CHECK(optim::clip_grad_norm_({one.a, one.b}, 1.9, 1.0) == doctest::Approx(19.0).epsilon(1e-15));
  const double c1 = 1.9 / (19 + 1e-6);
  check_values(one.grads(), {3 * c1, -4 * c1, 12 * c1});

  TwoParams inf;
  CHECK(optim::clip_grad_norm_({inf.a, inf.b}, 3.0, optim::kInfNorm) == doctest::Approx(12.0).epsilon(1e-15));
  const double ci = 3.0 / (12 + 1e-6);
  check_values(inf.grads(), {3 * ci, -4 * ci, 12 * ci});
}

TEST_CASE("clip_grad_norm_: 3-norm; gradients already small are untouched") {
  TwoParams t;
  const double p3 = std::cbrt(27.0 + 64.0 + 1728.0);
  CHECK(optim::clip_grad_norm_({t.a, t.b}, 100.0, 3.0) == doctest::Approx(p3).epsilon(1e-14));
  CHECK(t.grads() == std::vector<double>{3, -4, 12});
}

TEST_CASE("clip_grad_norm_: parameters without gradients are ignored; none at all gives 0") {
  TwoParams t;
  auto lonely = leaf({1.0, 1.0});
  CHECK(optim::clip_grad_norm_({t.a, lonely, t.b}, 1e9) == doctest::Approx(13.0));
  CHECK(optim::clip_grad_norm_({lonely}, 1.0) == 0.0);
}

TEST_CASE("clip_grad_norm_: a non-finite norm is an error when asked") {
  TwoParams t;
  t.b.set_grad(loom::tensor({std::numeric_limits<double>::infinity()}, loom::DType::Float64));
  CHECK(contains(message_of<loom::ValueError>([&] { optim::clip_grad_norm_({t.a, t.b}, 1.0, 2.0, true); }),
                 "finite"));
  CHECK(values(t.a.grad()) == Vec2{3.0, -4.0});
}

TEST_CASE("clip_grad_value_ clamps each element") {
  TwoParams t;
  optim::clip_grad_value_({t.a, t.b}, 3.5);
  CHECK(t.grads() == std::vector<double>{3, -3.5, 3.5});
  CHECK_THROWS_AS(optim::clip_grad_value_({t.a}, -1), loom::ValueError);
}

}  // TEST_SUITE
