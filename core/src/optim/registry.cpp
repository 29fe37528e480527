// Optimizers and learning-rate schedulers by name (loom/optim/registry.hpp), with options read by
// nn::ConfigReader as the module registry reads a layer's.
#include "loom/optim/registry.hpp"

#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "loom/check.hpp"
#include "loom/nn/registry.hpp"
#include "loom/optim/adagrad.hpp"
#include "loom/optim/adam.hpp"
#include "loom/optim/lbfgs.hpp"
#include "loom/optim/rmsprop.hpp"
#include "loom/optim/sgd.hpp"

namespace loom::optim {

namespace {

using nn::ConfigReader;
using OptimizerFactory = std::function<std::unique_ptr<Optimizer>(ConfigReader&, std::vector<Tensor>)>;
using SchedulerFactory = std::function<std::unique_ptr<LRScheduler>(ConfigReader&, Optimizer&)>;

int to_int(const std::string& type, const std::string& key, std::int64_t v) {
  LOOM_CHECK(v >= std::numeric_limits<int>::min() && v <= std::numeric_limits<int>::max(), ValueError,
             "{}: option '{}' is out of range, found {}", type, key, v);
  return static_cast<int>(v);
}

std::pair<double, double> read_betas(const std::string& type, ConfigReader& r, std::pair<double, double> fallback) {
  if (!r.has("betas")) return fallback;
  const nlohmann::json& v = r.raw("betas");
  LOOM_CHECK(v.is_array() && v.size() == 2 && v[0].is_number() && v[1].is_number(), ValueError,
             "{}: option 'betas' must be a list of 2 numbers, found {}", type, v.dump());
  return {v[0].get<double>(), v[1].get<double>()};
}

template <class Options>
Options read_adam_options(const std::string& type, ConfigReader& r) {
  Options o;
  o.lr = r.number("lr", o.lr);
  o.betas = read_betas(type, r, o.betas);
  o.eps = r.number("eps", o.eps);
  o.weight_decay = r.number("weight_decay", o.weight_decay);
  o.amsgrad = r.boolean("amsgrad", o.amsgrad);
  o.maximize = r.boolean("maximize", o.maximize);
  return o;
}

const std::map<std::string, OptimizerFactory>& optimizers() {
  static const std::map<std::string, OptimizerFactory> m = {
      {"sgd",
       [](ConfigReader& r, std::vector<Tensor> params) -> std::unique_ptr<Optimizer> {
         SGDOptions o;
         o.lr = r.number("lr", o.lr);
         o.momentum = r.number("momentum", o.momentum);
         o.dampening = r.number("dampening", o.dampening);
         o.weight_decay = r.number("weight_decay", o.weight_decay);
         o.nesterov = r.boolean("nesterov", o.nesterov);
         o.maximize = r.boolean("maximize", o.maximize);
         r.finish();
         return std::make_unique<SGD>(std::move(params), o);
       }},
      {"adam",
       [](ConfigReader& r, std::vector<Tensor> params) -> std::unique_ptr<Optimizer> {
         auto o = read_adam_options<AdamOptions>("adam", r);
         r.finish();
         return std::make_unique<Adam>(std::move(params), o);
       }},
      {"adamw",
       [](ConfigReader& r, std::vector<Tensor> params) -> std::unique_ptr<Optimizer> {
         auto o = read_adam_options<AdamWOptions>("adamw", r);
         r.finish();
         return std::make_unique<AdamW>(std::move(params), o);
       }},
      {"rmsprop",
       [](ConfigReader& r, std::vector<Tensor> params) -> std::unique_ptr<Optimizer> {
         RMSPropOptions o;
         o.lr = r.number("lr", o.lr);
         o.alpha = r.number("alpha", o.alpha);
         o.eps = r.number("eps", o.eps);
         o.weight_decay = r.number("weight_decay", o.weight_decay);
         o.momentum = r.number("momentum", o.momentum);
         o.centered = r.boolean("centered", o.centered);
         o.maximize = r.boolean("maximize", o.maximize);
         r.finish();
         return std::make_unique<RMSProp>(std::move(params), o);
       }},
      {"adagrad",
       [](ConfigReader& r, std::vector<Tensor> params) -> std::unique_ptr<Optimizer> {
         AdagradOptions o;
         o.lr = r.number("lr", o.lr);
         o.lr_decay = r.number("lr_decay", o.lr_decay);
         o.weight_decay = r.number("weight_decay", o.weight_decay);
         o.initial_accumulator_value = r.number("initial_accumulator_value", o.initial_accumulator_value);
         o.eps = r.number("eps", o.eps);
         o.maximize = r.boolean("maximize", o.maximize);
         r.finish();
         return std::make_unique<Adagrad>(std::move(params), o);
       }},
      {"lbfgs",
       [](ConfigReader& r, std::vector<Tensor> params) -> std::unique_ptr<Optimizer> {
         LBFGSOptions o;
         o.lr = r.number("lr", o.lr);
         o.max_iter = r.integer("max_iter", o.max_iter);
         o.max_eval = r.integer("max_eval", o.max_eval);
         o.tolerance_grad = r.number("tolerance_grad", o.tolerance_grad);
         o.tolerance_change = r.number("tolerance_change", o.tolerance_change);
         o.history_size = r.integer("history_size", o.history_size);
         if (r.has("line_search") && r.raw("line_search").is_null()) {
           o.line_search = LineSearch::None;
         } else {
           o.line_search = r.text("line_search", "none", {"none", "strong_wolfe"}) == "strong_wolfe"
                               ? LineSearch::StrongWolfe
                               : LineSearch::None;
         }
         r.finish();
         return std::make_unique<LBFGS>(std::move(params), o);
       }},
  };
  return m;
}

const std::map<std::string, SchedulerFactory>& schedulers() {
  static const std::map<std::string, SchedulerFactory> m = {
      {"step_lr",
       [](ConfigReader& r, Optimizer& opt) -> std::unique_ptr<LRScheduler> {
         StepLROptions o;
         o.step_size = to_int("step_lr", "step_size", r.integer("step_size", o.step_size));
         o.gamma = r.number("gamma", o.gamma);
         r.finish();
         return std::make_unique<StepLR>(opt, o);
       }},
      {"multi_step_lr",
       [](ConfigReader& r, Optimizer& opt) -> std::unique_ptr<LRScheduler> {
         MultiStepLROptions o;
         LOOM_CHECK(r.has("milestones"), ValueError, "multi_step_lr: option 'milestones' is required");
         for (std::int64_t v : r.integers("milestones", {}))
           o.milestones.push_back(to_int("multi_step_lr", "milestones", v));
         o.gamma = r.number("gamma", o.gamma);
         r.finish();
         return std::make_unique<MultiStepLR>(opt, o);
       }},
      {"exponential_lr",
       [](ConfigReader& r, Optimizer& opt) -> std::unique_ptr<LRScheduler> {
         const double gamma = r.number("gamma");
         r.finish();
         return std::make_unique<ExponentialLR>(opt, gamma);
       }},
      {"cosine_annealing_lr",
       [](ConfigReader& r, Optimizer& opt) -> std::unique_ptr<LRScheduler> {
         CosineAnnealingLROptions o;
         o.T_max = to_int("cosine_annealing_lr", "T_max", r.integer("T_max", o.T_max));
         o.eta_min = r.number("eta_min", o.eta_min);
         r.finish();
         return std::make_unique<CosineAnnealingLR>(opt, o);
       }},
      {"linear_lr",
       [](ConfigReader& r, Optimizer& opt) -> std::unique_ptr<LRScheduler> {
         LinearLROptions o;
         o.start_factor = r.number("start_factor", o.start_factor);
         o.end_factor = r.number("end_factor", o.end_factor);
         o.total_iters = to_int("linear_lr", "total_iters", r.integer("total_iters", o.total_iters));
         r.finish();
         return std::make_unique<LinearLR>(opt, o);
       }},
      {"one_cycle_lr",
       [](ConfigReader& r, Optimizer& opt) -> std::unique_ptr<LRScheduler> {
         OneCycleLROptions o;
         const std::string t = "one_cycle_lr";
         o.max_lr = r.number("max_lr", o.max_lr);
         o.total_steps = to_int(t, "total_steps", r.integer("total_steps", o.total_steps));
         o.epochs = to_int(t, "epochs", r.integer("epochs", o.epochs));
         o.steps_per_epoch = to_int(t, "steps_per_epoch", r.integer("steps_per_epoch", o.steps_per_epoch));
         o.pct_start = r.number("pct_start", o.pct_start);
         o.anneal_strategy =
             r.text("anneal_strategy", "cos", {"cos", "linear"}) == "linear" ? AnnealStrategy::Linear : AnnealStrategy::Cos;
         o.cycle_momentum = r.boolean("cycle_momentum", o.cycle_momentum);
         o.base_momentum = r.number("base_momentum", o.base_momentum);
         o.max_momentum = r.number("max_momentum", o.max_momentum);
         o.div_factor = r.number("div_factor", o.div_factor);
         o.final_div_factor = r.number("final_div_factor", o.final_div_factor);
         o.three_phase = r.boolean("three_phase", o.three_phase);
         r.finish();
         return std::make_unique<OneCycleLR>(opt, o);
       }},
  };
  return m;
}

template <class Map>
std::vector<std::string> names_of(const Map& m) {
  std::vector<std::string> out;
  for (const auto& [name, f] : m) out.push_back(name);
  return out;
}

template <class Map>
std::string joined(const Map& m) {
  std::string s;
  for (const auto& [name, f] : m) s += (s.empty() ? "" : ", ") + name;
  return s;
}

std::string type_of(const char* who, const nlohmann::json& spec) {
  LOOM_CHECK(spec.is_object() && spec.contains("type") && spec["type"].is_string(), ValueError,
             "{}: expected an object with a \"type\" string, found {}", who, spec.dump());
  return spec["type"].get<std::string>();
}

}  // namespace

std::unique_ptr<Optimizer> build_optimizer(const nlohmann::json& spec, std::vector<Tensor> params) {
  const std::string type = type_of("optim::build_optimizer", spec);
  const auto& m = optimizers();
  auto it = m.find(type);
  LOOM_CHECK(it != m.end(), ValueError, "optim::build_optimizer: unknown type '{}' (known: {})", type, joined(m));
  nlohmann::json config = spec;
  config.erase("type");
  ConfigReader reader(type, config);
  return it->second(reader, std::move(params));
}

std::unique_ptr<LRScheduler> build_scheduler(const nlohmann::json& spec, Optimizer& optimizer) {
  const std::string type = type_of("optim::build_scheduler", spec);
  LOOM_CHECK(type != "lambda_lr", ValueError,
             "optim::build_scheduler: 'lambda_lr' takes a C++ function and cannot be built from JSON; "
             "construct optim::LambdaLR directly");
  LOOM_CHECK(type != "reduce_lr_on_plateau", ValueError,
             "optim::build_scheduler: 'reduce_lr_on_plateau' is stepped with a metric (step(metric)), which "
             "the LRScheduler returned here does not take; construct optim::ReduceLROnPlateau directly");
  const auto& m = schedulers();
  auto it = m.find(type);
  LOOM_CHECK(it != m.end(), ValueError, "optim::build_scheduler: unknown type '{}' (known: {})", type, joined(m));
  nlohmann::json config = spec;
  config.erase("type");
  ConfigReader reader(type, config);
  return it->second(reader, optimizer);
}

std::vector<std::string> optimizer_types() { return names_of(optimizers()); }
std::vector<std::string> scheduler_types() { return names_of(schedulers()); }

}  // namespace loom::optim
