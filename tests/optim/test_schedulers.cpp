// Learning-rate schedulers against PyTorch 1.13's sequences (fixtures/schedulers.json, made by
// make_scheduler_fixtures.py): the first value is the rate after construction, then one per
// step(). Each case lists its own arguments; the optimizer is SGD with one group per "lr".
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "helpers.hpp"
#include "loom/optim/scheduler.hpp"
#include "loom/optim/sgd.hpp"

using namespace loom_optim_test;
namespace optim = loom::optim;
using nlohmann::json;

namespace {

json load_cases() {
  std::ifstream in(std::string(LOOM_OPTIM_FIXTURES) + "/schedulers.json");
  REQUIRE_MESSAGE(in.good(), "cannot open fixtures/schedulers.json");
  return json::parse(in).at("cases");
}

std::unique_ptr<optim::SGD> make_sgd(const json& lrs, double momentum = 0) {
  std::vector<optim::ParamGroup<optim::SGDOptions>> groups;
  for (double lr : lrs) groups.push_back({{leaf({0.0, 0.0})}, {.lr = lr, .momentum = momentum}});
  return std::make_unique<optim::SGD>(std::move(groups));
}

// The LambdaLR formulas the fixture script uses, by the name it records.
const std::map<std::string, optim::LambdaLR::Factor>& formulas() {
  static const std::map<std::string, optim::LambdaLR::Factor> table = {
      {"1/(1+epoch)", [](int e) { return 1.0 / (1 + e); }},
      {"min(1,(epoch+1)/5)*0.9^epoch", [](int e) { return std::min(1.0, (e + 1) / 5.0) * std::pow(0.9, e); }},
  };
  return table;
}

std::unique_ptr<optim::LRScheduler> make_scheduler(const json& c, optim::Optimizer& opt) {
  const std::string type = c["type"];
  if (type == "LambdaLR") return std::make_unique<optim::LambdaLR>(opt, formulas().at(c["formula"]));
  if (type == "StepLR") return std::make_unique<optim::StepLR>(opt, optim::StepLROptions{c["step_size"], c["gamma"]});
  if (type == "MultiStepLR")
    return std::make_unique<optim::MultiStepLR>(opt, optim::MultiStepLROptions{c["milestones"], c["gamma"]});
  if (type == "ExponentialLR") return std::make_unique<optim::ExponentialLR>(opt, c["gamma"]);
  if (type == "CosineAnnealingLR")
    return std::make_unique<optim::CosineAnnealingLR>(opt, optim::CosineAnnealingLROptions{c["T_max"], c["eta_min"]});
  if (type == "LinearLR")
    return std::make_unique<optim::LinearLR>(
        opt, optim::LinearLROptions{c["start_factor"], c["end_factor"], c["total_iters"]});
  if (type == "OneCycleLR") {
    optim::OneCycleLROptions o{.max_lr = c["max_lr"], .total_steps = c["total_steps"], .pct_start = c["pct_start"]};
    o.anneal_strategy = c["anneal_strategy"] == "cos" ? optim::AnnealStrategy::Cos : optim::AnnealStrategy::Linear;
    o.three_phase = c["three_phase"];
    o.div_factor = c["div_factor"];
    o.final_div_factor = c["final_div_factor"];
    return std::make_unique<optim::OneCycleLR>(opt, o);
  }
  FAIL("unknown scheduler type " << type);
  return nullptr;
}

void check_lrs(const std::vector<double>& found, const json& expected, std::size_t step) {
  REQUIRE(found.size() == expected.size());
  for (std::size_t g = 0; g < found.size(); ++g) {
    const double want = expected[g];
    INFO("after " << step << " step(s), group " << g << ": found " << found[g] << ", expected " << want);
    CHECK(std::abs(found[g] - want) <= 1e-12 * std::max(1.0, std::abs(want)));
  }
}

}  // namespace

TEST_SUITE("schedulers") {

TEST_CASE("COURSE example 10: α0/(1 + epoch) with LambdaLR gives 0.1, 0.05, 0.0333, 0.025") {
  auto sgd = make_sgd(json::array({0.1}));
  optim::LambdaLR decay(*sgd, [](int epoch) { return 1.0 / (1 + epoch); });
  std::vector<double> seen{sgd->lr(0)};
  for (int i = 0; i < 3; ++i) {
    decay.step();
    seen.push_back(sgd->lr(0));
  }
  const std::vector<double> course{0.1, 0.05, 0.0333, 0.025};
  for (std::size_t i = 0; i < 4; ++i) CHECK(std::abs(seen[i] - course[i]) <= 0.00005);
  CHECK(decay.get_last_lr()[0] == sgd->lr(0));
}

TEST_CASE("learning-rate sequences match PyTorch's") {
  const json cases = load_cases();
  REQUIRE(cases.size() >= 13);
  for (const auto& [name, c] : cases.items()) {
    if (c["type"] == "ReduceLROnPlateau") continue;
    SUBCASE(name.c_str()) {
      auto sgd = make_sgd(c["lr"], c["type"] == "OneCycleLR" ? 0.9 : 0.0);
      auto scheduler = make_scheduler(c, *sgd);
      const json& lrs = c["lrs"];
      for (std::size_t i = 0; i < lrs.size(); ++i) {
        if (i > 0) scheduler->step();
        check_lrs(scheduler->get_last_lr(), lrs[i], i);
        check_lrs({sgd->lr(0), sgd->lr(1 % sgd->num_param_groups())}, json::array({lrs[i][0], lrs[i].back()}), i);
        if (c.contains("momenta")) check_lrs({sgd->option(0, "momentum")}, json::array({c["momenta"][i][0]}), i);
      }
    }
  }
}

TEST_CASE("ReduceLROnPlateau matches PyTorch's") {
  const json cases = load_cases();
  for (const auto& [name, c] : cases.items()) {
    if (c["type"] != "ReduceLROnPlateau") continue;
    SUBCASE(name.c_str()) {
      auto sgd = make_sgd(c["lr"]);
      optim::ReduceLROnPlateauOptions o;
      o.mode = c["mode"] == "min" ? optim::PlateauMode::Min : optim::PlateauMode::Max;
      o.threshold_mode = c["threshold_mode"] == "rel" ? optim::ThresholdMode::Rel : optim::ThresholdMode::Abs;
      o.factor = c["factor"];
      o.patience = c["patience"];
      o.threshold = c["threshold"];
      o.cooldown = c["cooldown"];
      o.min_lr = c["min_lr"];
      optim::ReduceLROnPlateau plateau(*sgd, o);
      check_lrs(plateau.get_last_lr(), c["lrs"][0], 0);
      for (std::size_t i = 0; i < c["metrics"].size(); ++i) {
        plateau.step(c["metrics"][i].get<double>());
        check_lrs(plateau.get_last_lr(), c["lrs"][i + 1], i + 1);
      }
    }
  }
}

TEST_CASE("chainable schedulers compose as PyTorch's do: a manual lr change persists") {
  auto sgd = make_sgd(json::array({1.0}));
  optim::ExponentialLR decay(*sgd, 0.5);
  decay.step();  // 0.5
  sgd->set_lr(0, 10.0);
  decay.step();
  CHECK(sgd->lr(0) == 5.0);
}

TEST_CASE("scheduler state_dict round trip resumes the sequence") {
  auto a = make_sgd(json::array({0.1}));
  optim::CosineAnnealingLR first(*a, {.T_max = 4, .eta_min = 0.01});
  for (int i = 0; i < 3; ++i) first.step();
  const auto saved = first.state_dict();
  CHECK(saved.scalars.at("last_epoch") == 3);
  first.step();

  auto b = make_sgd(json::array({0.1}));
  optim::CosineAnnealingLR second(*b, {.T_max = 4, .eta_min = 0.01});
  second.load_state_dict(saved);
  b->set_lr(0, saved.scalars.at("last_lrs.0"));  // as a checkpoint restores the optimizer too
  second.step();
  CHECK(second.get_last_lr()[0] == first.get_last_lr()[0]);
  CHECK(second.last_epoch() == 4);
}

TEST_CASE("every scheduler's state carries its type name") {
  auto sgd = make_sgd(json::array({0.1, 0.2}), 0.9);
  std::vector<std::unique_ptr<optim::LRScheduler>> all;
  all.push_back(std::make_unique<optim::LambdaLR>(*sgd, [](int e) { return 1.0 / (1 + e); }));
  all.push_back(std::make_unique<optim::StepLR>(*sgd, optim::StepLROptions{}));
  all.push_back(std::make_unique<optim::MultiStepLR>(*sgd, optim::MultiStepLROptions{{2}}));
  all.push_back(std::make_unique<optim::ExponentialLR>(*sgd, 0.5));
  all.push_back(std::make_unique<optim::CosineAnnealingLR>(*sgd, optim::CosineAnnealingLROptions{}));
  all.push_back(std::make_unique<optim::LinearLR>(*sgd));
  all.push_back(std::make_unique<optim::OneCycleLR>(*sgd, optim::OneCycleLROptions{.total_steps = 10}));
  all.push_back(std::make_unique<optim::ReduceLROnPlateau>(*sgd));
  const std::vector<std::string> names{"LambdaLR",          "StepLR",   "MultiStepLR", "ExponentialLR",
                                       "CosineAnnealingLR", "LinearLR", "OneCycleLR",  "ReduceLROnPlateau"};
  REQUIRE(all.size() == names.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    CAPTURE(names[i]);
    CHECK(all[i]->name() == names[i]);
    CHECK(all[i]->state_dict().type == names[i]);
  }
}

TEST_CASE("a scheduler state of another type is a ValueError naming both types, and changes nothing") {
  auto sgd = make_sgd(json::array({0.1}));
  optim::StepLR step(*sgd, {.step_size = 2});
  optim::ReduceLROnPlateau plateau(*sgd, {.patience = 0});
  step.step();
  plateau.step(1.0);
  const optim::SchedulerState plateau_state = plateau.state_dict();
  const optim::SchedulerState step_state = step.state_dict();
  CHECK(contains(message_of<loom::ValueError>([&] { step.load_state_dict(plateau_state); }),
                 "expected the state of a StepLR scheduler, found the state of ReduceLROnPlateau"));
  CHECK(contains(message_of<loom::ValueError>([&] { plateau.load_state_dict(step_state); }),
                 "expected the state of a ReduceLROnPlateau scheduler, found the state of StepLR"));
  CHECK(step.state_dict().scalars == step_state.scalars);
  CHECK(plateau.state_dict().scalars == plateau_state.scalars);
  // A state without a type (a version-1 checkpoint's) is taken on its entries alone.
  optim::SchedulerState untyped = step_state;
  untyped.type.clear();
  step.load_state_dict(untyped);
  CHECK(step.last_epoch() == 1);
}

TEST_CASE("ReduceLROnPlateau is an LRScheduler stepped with its metric") {
  auto sgd = make_sgd(json::array({1.0}));
  optim::ReduceLROnPlateau plateau(*sgd, {.factor = 0.5, .patience = 0});
  optim::LRScheduler& base = plateau;
  CHECK(base.last_epoch() == 0);  // as PyTorch: construction is not a step
  CHECK(base.get_last_lr() == std::vector<double>{1.0});
  const std::string msg = message_of<loom::ValueError>([&] { base.step(); });
  CHECK(contains(msg, "ReduceLROnPlateau"));
  CHECK(contains(msg, "step(metric)"));
  CHECK(base.last_epoch() == 0);  // the refused step changed nothing
  plateau.step(3.0);
  plateau.step(4.0);  // worse: patience 0 halves the rate
  CHECK(base.last_epoch() == 2);
  CHECK(base.get_last_lr() == std::vector<double>{0.5});
  CHECK(sgd->lr(0) == 0.5);
}

TEST_CASE("ReduceLROnPlateau state round trip resumes the sequence, and a missing entry changes nothing") {
  const std::vector<double> metrics{5, 4, 4.5, 4.2, 4.1, 3, 3.5, 3.6, 3.7, 3.8, 3.9, 2};
  const optim::ReduceLROnPlateauOptions o{.factor = 0.5, .patience = 1, .cooldown = 1};
  auto a = make_sgd(json::array({1.0, 0.3}));
  optim::ReduceLROnPlateau straight(*a, o);
  for (std::size_t i = 0; i < 4; ++i) straight.step(metrics[i]);
  const optim::SchedulerState saved = straight.state_dict();
  CHECK(saved.type == "ReduceLROnPlateau");
  CHECK(saved.scalars.at("best") == 4);
  CHECK(saved.scalars.at("last_epoch") == 4);
  std::vector<std::vector<double>> expected;
  for (std::size_t i = 4; i < metrics.size(); ++i) {
    straight.step(metrics[i]);
    expected.push_back(straight.get_last_lr());
  }
  REQUIRE(expected.back() != expected.front());  // the tail reduces the rate

  auto b = make_sgd(json::array({1.0, 0.3}));
  optim::ReduceLROnPlateau resumed(*b, o);
  optim::SchedulerState partial = saved;
  partial.scalars.erase("cooldown_counter");
  CHECK(contains(message_of<loom::ValueError>([&] { resumed.load_state_dict(partial); }), "'cooldown_counter'"));
  CHECK(resumed.last_epoch() == 0);
  CHECK(resumed.state_dict().scalars.at("best") == std::numeric_limits<double>::infinity());

  resumed.load_state_dict(saved);
  // As a checkpoint restores the optimizer too.
  for (std::size_t g = 0; g < 2; ++g) b->set_lr(g, saved.scalars.at("last_lrs." + std::to_string(g)));
  CHECK(resumed.state_dict().scalars == saved.scalars);
  for (std::size_t i = 4; i < metrics.size(); ++i) {
    resumed.step(metrics[i]);
    CHECK(resumed.get_last_lr() == expected[i - 4]);
  }
}

TEST_CASE("bad scheduler options name the scheduler and the option") {
  auto sgd = make_sgd(json::array({0.1}));
  CHECK(contains(message_of<loom::ValueError>([&] { optim::LinearLR(*sgd, {.start_factor = 0}); }), "start_factor"));
  CHECK(contains(message_of<loom::ValueError>([&] { optim::StepLR(*sgd, {.step_size = 0}); }), "step_size"));
  CHECK(contains(message_of<loom::ValueError>([&] { optim::CosineAnnealingLR(*sgd, {.T_max = 0}); }), "T_max"));
  CHECK(contains(message_of<loom::ValueError>([&] { optim::ReduceLROnPlateau(*sgd, {.factor = 1.0}); }), "factor"));
  CHECK(contains(message_of<loom::ValueError>([&] { optim::OneCycleLR(*sgd, {.max_lr = 1.0}); }), "total_steps"));
  auto sgd_plain = make_sgd(json::array({0.1}));
  optim::OneCycleLR once(*sgd_plain, {.max_lr = 1.0, .total_steps = 2});
  once.step();  // steps 0 and 1 make the cycle
  CHECK(contains(message_of<loom::ValueError>([&] { once.step(); }), "total_steps"));
}

}  // TEST_SUITE
