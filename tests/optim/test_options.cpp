// Bad options are ValueErrors that name the optimizer, the option and the value.
#include "helpers.hpp"
#include "loom/optim/adagrad.hpp"
#include "loom/optim/adam.hpp"
#include "loom/optim/lbfgs.hpp"
#include "loom/optim/rmsprop.hpp"
#include "loom/optim/sgd.hpp"

using namespace loom_optim_test;
namespace optim = loom::optim;

namespace {
template <class Make>
void check_refused(Make make, const std::vector<std::string>& parts) {
  const std::string message = message_of<loom::ValueError>(make);
  for (const auto& part : parts) {
    INFO("message: " << message << "\nmissing: " << part);
    CHECK(contains(message, part));
  }
}
}  // namespace

TEST_SUITE("options") {

TEST_CASE("SGD") {
  auto p = leaf(kTheta0);
  check_refused([&] { optim::SGD({p}, {.lr = -0.1}); }, {"SGD", "lr", "-0.1"});
  check_refused([&] { optim::SGD({p}, {.lr = 0.1, .momentum = -0.5}); }, {"SGD", "momentum", "-0.5"});
  check_refused([&] { optim::SGD({p}, {.lr = 0.1, .weight_decay = -1}); }, {"SGD", "weight_decay", "-1"});
  check_refused([&] { optim::SGD({p}, {.lr = 0.1, .nesterov = true}); }, {"SGD", "nesterov", "momentum"});
  check_refused([&] { optim::SGD({p}, {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true}); },
                {"SGD", "nesterov", "dampening"});
  CHECK_NOTHROW(optim::SGD({p}, {.lr = 0.1, .momentum = 0.9, .nesterov = true}));
}

TEST_CASE("Adam and AdamW") {
  auto p = leaf(kTheta0);
  check_refused([&] { optim::Adam({p}, {.lr = -1}); }, {"Adam", "lr", "-1"});
  check_refused([&] { optim::Adam({p}, {.betas = {1.0, 0.999}}); }, {"Adam", "beta1", "1"});
  check_refused([&] { optim::Adam({p}, {.betas = {0.9, -0.1}}); }, {"Adam", "beta2", "-0.1"});
  check_refused([&] { optim::Adam({p}, {.eps = -1e-8}); }, {"Adam", "eps"});
  check_refused([&] { optim::AdamW({p}, {.weight_decay = -0.01}); }, {"AdamW", "weight_decay", "-0.01"});
  check_refused([&] { optim::AdamW({p}, {.betas = {0.9, 1.5}}); }, {"AdamW", "beta2", "1.5"});
}

TEST_CASE("RMSProp, Adagrad, LBFGS") {
  auto p = leaf(kTheta0);
  check_refused([&] { optim::RMSProp({p}, {.alpha = 1.0}); }, {"RMSProp", "alpha", "1"});
  check_refused([&] { optim::RMSProp({p}, {.momentum = -0.1}); }, {"RMSProp", "momentum", "-0.1"});
  check_refused([&] { optim::Adagrad({p}, {.lr_decay = -0.5}); }, {"Adagrad", "lr_decay", "-0.5"});
  check_refused([&] { optim::Adagrad({p}, {.initial_accumulator_value = -2}); },
                {"Adagrad", "initial_accumulator_value", "-2"});
  check_refused([&] { optim::LBFGS({p}, {.history_size = 0}); }, {"LBFGS", "history_size", "0"});
  check_refused([&] { optim::LBFGS({p}, {.max_iter = 0}); }, {"LBFGS", "max_iter", "0"});
  optim::LBFGS lbfgs({p});
  check_refused([&] { lbfgs.step(); }, {"LBFGS", "closure"});
}

TEST_CASE("a bad option in a second group names the optimizer too") {
  auto a = leaf(kTheta0);
  auto b = leaf(kTheta0);
  check_refused([&] { optim::Adagrad({{{a}, {}}, {{b}, {.lr = -3}}}); }, {"Adagrad", "lr", "-3"});
}

}  // TEST_SUITE
