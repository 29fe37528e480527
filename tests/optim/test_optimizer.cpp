// What every optimizer shares: groups, zero_grad, skipping parameters without a gradient,
// options by name, closures, and state_dict round trips.
#include "helpers.hpp"
#include "loom/optim/adagrad.hpp"
#include "loom/optim/adam.hpp"
#include "loom/optim/lbfgs.hpp"
#include "loom/optim/rmsprop.hpp"
#include "loom/optim/sgd.hpp"

using namespace loom_optim_test;
namespace optim = loom::optim;

TEST_SUITE("optimizer") {

TEST_CASE("each parameter group uses its own hyper-parameters") {
  auto a = leaf({1.0, 2.0});
  auto b = leaf({1.0, 2.0});
  optim::SGD sgd({{{a}, {.lr = 0.1}}, {{b}, {.lr = 0.01, .weight_decay = 1.0}}});
  (a.sum() + b.sum()).backward();  // both gradients are ones
  sgd.step();
  CHECK(values(a) == Vec2{0.9, 1.9});
  CHECK(values(b)[0] == doctest::Approx(1 - 0.01 * (1 + 1)));
  CHECK(values(b)[1] == doctest::Approx(2 - 0.01 * (1 + 2)));
  CHECK(sgd.param_groups().size() == 2);
  CHECK(sgd.lr(1) == 0.01);
}

TEST_CASE("parameters without a gradient are skipped, state and all") {
  auto used = leaf({1.0, 1.0});
  auto unused = leaf({5.0, 5.0});
  optim::Adam adam({used, unused}, {.lr = 0.1});
  used.sum().backward();
  adam.step();
  CHECK(values(unused) == Vec2{5.0, 5.0});
  CHECK(values(used)[0] < 1.0);
  const auto state = adam.state_dict();
  CHECK(state.per_param.at(0).tensors.count("exp_avg") == 1);
  CHECK(state.per_param.at(1).tensors.empty());
}

TEST_CASE("zero_grad drops gradients, or zeroes them in place") {
  auto p = leaf({1.0, 2.0});
  optim::SGD sgd({p}, {.lr = 0.1});
  p.sum().backward();
  sgd.zero_grad(false);
  REQUIRE(p.grad().defined());
  CHECK(values(p.grad()) == Vec2{0.0, 0.0});
  sgd.zero_grad();
  CHECK(!p.grad().defined());
  sgd.step();  // nothing to do
  CHECK(values(p) == Vec2{1.0, 2.0});
}

TEST_CASE("step(closure) evaluates the closure with grad mode on and returns its loss") {
  auto p = leaf(kTheta0);
  optim::SGD sgd({p}, {.lr = 0.1});
  loom::NoGradGuard outside;  // the closure must still record its graph
  const auto loss = sgd.step([&] {
    sgd.zero_grad();
    auto l = quadratic(p);
    l.backward();
    return l;
  });
  CHECK(loss.item<double>() == doctest::Approx(quadratic(leaf(kTheta0)).item<double>()));
  check_trajectory({values(p)}, {{0.5 + 0.025, -1.5 - 0.075}});
}

TEST_CASE("options by name: what schedulers use; setting one validates it") {
  auto p = leaf(kTheta0);
  optim::Adam adam({p});
  CHECK(adam.option(0, "beta1") == 0.9);
  adam.set_option(0, "beta1", 0.5);
  CHECK(adam.param_groups()[0].options.betas.first == 0.5);
  adam.set_lr(0, 0.25);
  CHECK(adam.param_groups()[0].options.lr == 0.25);
  CHECK(adam.has_option("amsgrad"));
  CHECK(!adam.has_option("momentum"));
  CHECK(contains(message_of<loom::ValueError>([&] { adam.option(0, "momentum"); }), "momentum"));
  CHECK(contains(message_of<loom::ValueError>([&] { adam.set_lr(0, -1); }), "lr"));
  CHECK(adam.lr(0) == 0.25);  // a refused value leaves the option as it was
}

TEST_CASE("parameters: leaves only, floating only, once only, not none") {
  auto p = leaf(kTheta0);
  CHECK(contains(message_of<loom::ValueError>([&] { optim::SGD({p * 2.0}); }), "not a leaf"));
  CHECK(contains(message_of<loom::ValueError>([&] { optim::SGD({{{p}, {}}, {{p}, {}}}); }), "more than once"));
  CHECK(contains(message_of<loom::ValueError>([&] { optim::SGD(std::vector<loom::Tensor>{}); }), "empty"));
  CHECK_THROWS_AS(optim::SGD({loom::tensor({1, 2})}), loom::DTypeError);
  optim::SGD sgd({p});
  CHECK_THROWS_AS(sgd.add_param_group({{p}, {}}), loom::ValueError);
}

namespace {
// Runs `steps` steps, saves, runs `more` steps; then a fresh optimizer loads the saved state
// at the saved parameters and must reproduce the same `more` steps bit for bit.
template <class Make>
void check_round_trip(Make make, int steps, int more) {
  auto theta = leaf(kTheta0);
  auto opt = make(theta);
  run_quadratic(*opt, theta, steps);
  const auto saved_state = opt->state_dict();
  const Vec2 saved_theta = values(theta);
  const auto continued = run_quadratic(*opt, theta, more);

  auto theta2 = leaf(saved_theta);
  auto opt2 = make(theta2);
  opt2->load_state_dict(saved_state);
  const auto resumed = run_quadratic(*opt2, theta2, more);
  REQUIRE(resumed.size() == continued.size());
  for (std::size_t i = 0; i < resumed.size(); ++i) {
    INFO("step " << i);
    CHECK(resumed[i][0] == continued[i][0]);  // bit-identical
    CHECK(resumed[i][1] == continued[i][1]);
  }
  // Without the state the continuation differs: the test can fail.
  auto theta3 = leaf(saved_theta);
  auto opt3 = make(theta3);
  CHECK(run_quadratic(*opt3, theta3, more).back() != continued.back());
}
}  // namespace

TEST_CASE("state_dict round trip continues a trajectory bit-identically") {
  SUBCASE("SGD with momentum") {
    check_round_trip([](auto t) { return std::make_unique<optim::SGD>(std::vector{t}, optim::SGDOptions{.lr = 0.05, .momentum = 0.9}); }, 4, 5);
  }
  SUBCASE("Adam with amsgrad") {
    check_round_trip([](auto t) { return std::make_unique<optim::Adam>(std::vector{t}, optim::AdamOptions{.lr = 0.05, .amsgrad = true}); }, 4, 5);
  }
  SUBCASE("AdamW") {
    check_round_trip([](auto t) { return std::make_unique<optim::AdamW>(std::vector{t}, optim::AdamWOptions{.lr = 0.05}); }, 3, 4);
  }
  SUBCASE("centered RMSProp with momentum") {
    check_round_trip([](auto t) { return std::make_unique<optim::RMSProp>(std::vector{t}, optim::RMSPropOptions{.lr = 0.01, .momentum = 0.5, .centered = true}); }, 4, 5);
  }
  SUBCASE("Adagrad with lr decay") {
    check_round_trip([](auto t) { return std::make_unique<optim::Adagrad>(std::vector{t}, optim::AdagradOptions{.lr = 0.1, .lr_decay = 0.1}); }, 4, 5);
  }
}

TEST_CASE("state_dict: copies, hyper-parameters by dotted name, counts checked on load") {
  auto p = leaf(kTheta0);
  optim::Adam adam({p}, {.lr = 0.05});
  run_quadratic(adam, p, 2);
  auto state = adam.state_dict();
  CHECK(state.scalars.at("param_groups.0.lr") == 0.05);
  CHECK(state.scalars.at("param_groups.0.beta2") == 0.999);
  CHECK(state.scalars.at("param_groups.0.size") == 1);
  const auto names = state.named_tensors();
  CHECK(names.count("state.0.exp_avg") == 1);
  CHECK(state.named_scalars().at("state.0.step") == 2);
  const auto before = values(state.per_param[0].tensors.at("exp_avg"));
  run_quadratic(adam, p, 1);
  CHECK(values(state.per_param[0].tensors.at("exp_avg")) == before);  // a copy, not the live buffer

  auto q = leaf(kTheta0);
  auto r = leaf(kTheta0);
  optim::Adam two({q, r});
  CHECK(contains(message_of<loom::ValueError>([&] { two.load_state_dict(state); }), "parameter"));
  auto wide = loom::zeros({3}, loom::DType::Float64).requires_grad_();
  optim::Adam other({wide});
  CHECK_THROWS_AS(other.load_state_dict(state), loom::ShapeError);
  state.scalars.at("param_groups.0.lr") = 0.125;  // hyper-parameters come back too
  optim::Adam fresh({leaf(kTheta0)});
  fresh.load_state_dict(state);
  CHECK(fresh.lr(0) == 0.125);
}

}  // TEST_SUITE
