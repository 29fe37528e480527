// The optimizer and scheduler registry (loom/optim/registry.hpp): every name builds an object
// that behaves exactly like the directly constructed one (same iterates on the quadratic, same
// learning-rate sequence), and bad specs are ValueErrors naming the type and the option.
#include <nlohmann/json.hpp>

#include "helpers.hpp"
#include "loom/optim/adagrad.hpp"
#include "loom/optim/adam.hpp"
#include "loom/optim/lbfgs.hpp"
#include "loom/optim/registry.hpp"
#include "loom/optim/rmsprop.hpp"
#include "loom/optim/scheduler.hpp"
#include "loom/optim/sgd.hpp"

using namespace loom_optim_test;
namespace optim = loom::optim;
using nlohmann::json;

namespace {

void check_refused(const std::function<void()>& make, const std::vector<std::string>& parts) {
  const std::string message = message_of<loom::ValueError>(make);
  for (const auto& part : parts) {
    INFO("message: " << message << "\nmissing: " << part);
    CHECK(contains(message, part));
  }
}

// Builds from `spec` and directly (`make`), runs both on the quadratic and compares the iterates.
template <class Make>
void check_same_steps(const json& spec, Make make, int steps = 6) {
  INFO("spec: " << spec.dump());
  auto a = leaf(kTheta0);
  auto b = leaf(kTheta0);
  auto built = optim::build_optimizer(spec, {a});
  auto direct = make(b);
  const auto found = run_quadratic(*built, a, steps);
  const auto expected = run_quadratic(direct, b, steps);
  check_trajectory(found, expected, 0.0);
}

std::vector<double> lr_sequence(optim::LRScheduler& s, int steps) {
  std::vector<double> out{s.get_last_lr().at(0)};
  for (int i = 0; i < steps; ++i) {
    s.step();
    out.push_back(s.get_last_lr().at(0));
  }
  return out;
}

template <class Make>
void check_same_lrs(const json& spec, Make make, int steps = 12) {
  INFO("spec: " << spec.dump());
  optim::SGD opt_a({leaf(kTheta0)}, {.lr = 0.1, .momentum = 0.9});
  optim::SGD opt_b({leaf(kTheta0)}, {.lr = 0.1, .momentum = 0.9});
  auto built = optim::build_scheduler(spec, opt_a);
  auto direct = make(opt_b);
  const auto found = lr_sequence(*built, steps);
  const auto expected = lr_sequence(*direct, steps);
  REQUIRE(found.size() == expected.size());
  for (std::size_t i = 0; i < found.size(); ++i) {
    INFO("epoch " << i);
    CHECK(found[i] == expected[i]);
  }
  CHECK(opt_a.lr(0) == opt_b.lr(0));
}

}  // namespace

TEST_SUITE("registry") {

TEST_CASE("optimizer_types and scheduler_types list every name") {
  CHECK(optim::optimizer_types() == std::vector<std::string>{"adagrad", "adam", "adamw", "lbfgs", "rmsprop", "sgd"});
  CHECK(optim::scheduler_types() == std::vector<std::string>{"cosine_annealing_lr", "exponential_lr", "linear_lr",
                                                             "multi_step_lr", "one_cycle_lr", "step_lr"});
}

TEST_CASE("each optimizer builds and steps as the directly constructed one") {
  check_same_steps(json{{"type", "sgd"}, {"lr", 0.1}},
                   [](loom::Tensor p) { return optim::SGD({p}, {.lr = 0.1}); });
  check_same_steps(json{{"type", "sgd"}, {"lr", 0.05}, {"momentum", 0.9}, {"nesterov", true}, {"weight_decay", 0.01}},
                   [](loom::Tensor p) {
                     return optim::SGD({p}, {.lr = 0.05, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true});
                   });
  check_same_steps(json{{"type", "adam"}, {"lr", 0.1}, {"betas", {0.8, 0.99}}, {"eps", 1e-6}, {"amsgrad", true}},
                   [](loom::Tensor p) {
                     return optim::Adam({p}, {.lr = 0.1, .betas = {0.8, 0.99}, .eps = 1e-6, .amsgrad = true});
                   });
  check_same_steps(json{{"type", "adamw"}, {"lr", 0.1}, {"weight_decay", 0.1}},
                   [](loom::Tensor p) { return optim::AdamW({p}, {.lr = 0.1, .weight_decay = 0.1}); });
  check_same_steps(json{{"type", "adamw"}},  // AdamW's own default weight_decay (1e-2)
                   [](loom::Tensor p) { return optim::AdamW({p}); });
  check_same_steps(json{{"type", "rmsprop"}, {"lr", 0.01}, {"alpha", 0.9}, {"momentum", 0.5}, {"centered", true}},
                   [](loom::Tensor p) {
                     return optim::RMSProp({p}, {.lr = 0.01, .alpha = 0.9, .momentum = 0.5, .centered = true});
                   });
  check_same_steps(json{{"type", "adagrad"}, {"lr", 0.1}, {"lr_decay", 0.01}, {"initial_accumulator_value", 0.1}},
                   [](loom::Tensor p) {
                     return optim::Adagrad({p}, {.lr = 0.1, .lr_decay = 0.01, .initial_accumulator_value = 0.1});
                   });
}

TEST_CASE("lbfgs builds with its options and minimises as the directly constructed one") {
  for (const json& ls : {json("strong_wolfe"), json("none"), json(nullptr)}) {
    INFO("line_search " << ls.dump());
    auto a = leaf(kTheta0);
    auto b = leaf(kTheta0);
    auto built = optim::build_optimizer(
        json{{"type", "lbfgs"}, {"lr", 0.5}, {"max_iter", 7}, {"history_size", 5}, {"line_search", ls}}, {a});
    optim::LBFGS direct({b}, {.lr = 0.5, .max_iter = 7, .history_size = 5,
                              .line_search = ls == "strong_wolfe" ? optim::LineSearch::StrongWolfe
                                                                  : optim::LineSearch::None});
    for (int i = 0; i < 3; ++i) {
      built->step([&] { built->zero_grad(); auto l = quadratic(a); l.backward(); return l; });
      direct.step([&] { direct.zero_grad(); auto l = quadratic(b); l.backward(); return l; });
      const Vec2 va = values(a), vb = values(b);
      CHECK(va[0] == vb[0]);
      CHECK(va[1] == vb[1]);
    }
  }
}

TEST_CASE("optimizer spec errors") {
  auto p = leaf(kTheta0);
  check_refused([&] { optim::build_optimizer(json{{"type", "adamax"}}, {p}); },
                {"unknown type 'adamax'", "adagrad", "adam", "adamw", "lbfgs", "rmsprop", "sgd"});
  check_refused([&] { optim::build_optimizer(json{{"lr", 0.1}}, {p}); }, {"type"});
  check_refused([&] { optim::build_optimizer(json{{"type", "sgd"}, {"momentm", 0.9}}, {p}); },
                {"sgd", "unknown option", "momentm", "momentum"});
  check_refused([&] { optim::build_optimizer(json{{"type", "adam"}, {"beta1", 0.9}}, {p}); },
                {"adam", "unknown option", "beta1"});
  check_refused([&] { optim::build_optimizer(json{{"type", "sgd"}, {"lr", "fast"}}, {p}); },
                {"sgd", "lr", "a number", "fast"});
  check_refused([&] { optim::build_optimizer(json{{"type", "sgd"}, {"nesterov", 1}}, {p}); },
                {"sgd", "nesterov", "true or false"});
  check_refused([&] { optim::build_optimizer(json{{"type", "adam"}, {"betas", 0.9}}, {p}); },
                {"adam", "betas", "2 numbers"});
  check_refused([&] { optim::build_optimizer(json{{"type", "adamw"}, {"betas", {0.9, 0.99, 0.999}}}, {p}); },
                {"adamw", "betas", "2 numbers"});
  check_refused([&] { optim::build_optimizer(json{{"type", "lbfgs"}, {"max_iter", 2.5}}, {p}); },
                {"lbfgs", "max_iter", "an integer"});
  check_refused([&] { optim::build_optimizer(json{{"type", "lbfgs"}, {"line_search", "wolfe"}}, {p}); },
                {"lbfgs", "line_search", "strong_wolfe"});
  // The optimizers' own validation still applies.
  check_refused([&] { optim::build_optimizer(json{{"type", "sgd"}, {"lr", -0.1}}, {p}); }, {"SGD", "lr", "-0.1"});
}

TEST_CASE("each scheduler builds and gives the directly constructed one's lr sequence") {
  check_same_lrs(json{{"type", "step_lr"}, {"step_size", 3}, {"gamma", 0.5}},
                 [](optim::Optimizer& o) { return std::make_unique<optim::StepLR>(o, optim::StepLROptions{3, 0.5}); });
  check_same_lrs(json{{"type", "multi_step_lr"}, {"milestones", {2, 5, 5, 9}}, {"gamma", 0.3}},
                 [](optim::Optimizer& o) {
                   return std::make_unique<optim::MultiStepLR>(o, optim::MultiStepLROptions{{2, 5, 5, 9}, 0.3});
                 });
  check_same_lrs(json{{"type", "exponential_lr"}, {"gamma", 0.9}},
                 [](optim::Optimizer& o) { return std::make_unique<optim::ExponentialLR>(o, 0.9); });
  check_same_lrs(json{{"type", "cosine_annealing_lr"}, {"T_max", 5}, {"eta_min", 0.001}},
                 [](optim::Optimizer& o) {
                   return std::make_unique<optim::CosineAnnealingLR>(o, optim::CosineAnnealingLROptions{5, 0.001});
                 });
  check_same_lrs(json{{"type", "linear_lr"}, {"start_factor", 0.25}, {"total_iters", 4}},
                 [](optim::Optimizer& o) {
                   return std::make_unique<optim::LinearLR>(
                       o, optim::LinearLROptions{.start_factor = 0.25, .total_iters = 4});
                 });
  check_same_lrs(json{{"type", "linear_lr"}},
                 [](optim::Optimizer& o) { return std::make_unique<optim::LinearLR>(o); });
  check_same_lrs(json{{"type", "one_cycle_lr"}, {"max_lr", 1.0}, {"total_steps", 13}, {"anneal_strategy", "linear"},
                      {"three_phase", true}},
                 [](optim::Optimizer& o) {
                   return std::make_unique<optim::OneCycleLR>(
                       o, optim::OneCycleLROptions{.max_lr = 1.0, .total_steps = 13,
                                                   .anneal_strategy = optim::AnnealStrategy::Linear,
                                                   .three_phase = true});
                 });
  check_same_lrs(json{{"type", "one_cycle_lr"}, {"epochs", 3}, {"steps_per_epoch", 5}, {"pct_start", 0.4}},
                 [](optim::Optimizer& o) {
                   return std::make_unique<optim::OneCycleLR>(
                       o, optim::OneCycleLROptions{.epochs = 3, .steps_per_epoch = 5, .pct_start = 0.4});
                 });
}

TEST_CASE("scheduler spec errors") {
  optim::SGD sgd({leaf(kTheta0)}, {.lr = 0.1, .momentum = 0.9});
  check_refused([&] { optim::build_scheduler(json{{"type", "poly_lr"}}, sgd); },
                {"unknown type 'poly_lr'", "step_lr", "multi_step_lr", "exponential_lr", "cosine_annealing_lr",
                 "linear_lr", "one_cycle_lr"});
  check_refused([&] { optim::build_scheduler(json{{"type", "lambda_lr"}}, sgd); },
                {"lambda_lr", "C++ function", "LambdaLR"});
  check_refused([&] { optim::build_scheduler(json{{"type", "reduce_lr_on_plateau"}}, sgd); },
                {"reduce_lr_on_plateau", "ReduceLROnPlateau"});
  check_refused([&] { optim::build_scheduler(json{{"type", "step_lr"}, {"step", 3}}, sgd); },
                {"step_lr", "unknown option", "'step'", "step_size"});
  check_refused([&] { optim::build_scheduler(json{{"type", "step_lr"}, {"step_size", 2.5}}, sgd); },
                {"step_lr", "step_size", "an integer"});
  check_refused([&] { optim::build_scheduler(json{{"type", "exponential_lr"}}, sgd); },
                {"exponential_lr", "gamma", "required"});
  check_refused([&] { optim::build_scheduler(json{{"type", "multi_step_lr"}}, sgd); },
                {"multi_step_lr", "milestones", "required"});
  check_refused([&] { optim::build_scheduler(json{{"type", "multi_step_lr"}, {"milestones", {1.5}}}, sgd); },
                {"multi_step_lr", "milestones", "a list of integers"});
  check_refused([&] { optim::build_scheduler(json{{"type", "one_cycle_lr"}, {"anneal_strategy", "cosine"}}, sgd); },
                {"one_cycle_lr", "anneal_strategy", "cos", "linear"});
  check_refused([&] { optim::build_scheduler(json{{"type", "cosine_annealing_lr"}, {"T_max", "ten"}}, sgd); },
                {"cosine_annealing_lr", "T_max", "an integer"});
}

}  // TEST_SUITE
