#pragma once
// Optimizers and learning-rate schedulers by name, built from JSON configs (DESIGN.md §2):
//
// ```cpp
// auto model = loom::nn::build(R"({"type": "linear", "in_features": 4, "out_features": 2})"_json);
// auto opt = loom::optim::build_optimizer(R"({"type": "adam", "lr": 1e-3, "betas": [0.9, 0.98]})"_json,
//                                         model->parameters());
// auto sched = loom::optim::build_scheduler(R"({"type": "step_lr", "step_size": 10})"_json, *opt);
// ```
//
// Options are named as the fields of the Options structs (SGDOptions, AdamOptions, ...,
// StepLROptions, ...); Adam's and AdamW's betas are a 2-element list "betas"; LBFGS's
// line_search is "none" (or null) or "strong_wolfe"; OneCycleLR's anneal_strategy is "cos" or
// "linear"; ExponentialLR takes "gamma". An unknown type is a ValueError listing the known ones,
// an unknown option or a wrongly typed one a ValueError naming the type and the option.
// LambdaLR takes a C++ function and ReduceLROnPlateau is stepped with a metric: neither is
// built from JSON (construct them directly).
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "loom/export.hpp"
#include "loom/optim/optimizer.hpp"
#include "loom/optim/scheduler.hpp"

namespace loom::optim {

// {"type": "sgd" | "adam" | "adamw" | "rmsprop" | "adagrad" | "lbfgs", <options>}
LOOM_API std::unique_ptr<Optimizer> build_optimizer(const nlohmann::json& spec, std::vector<Tensor> params);
// {"type": "step_lr" | "multi_step_lr" | "exponential_lr" | "cosine_annealing_lr" | "linear_lr" |
//  "one_cycle_lr", <options>}. The scheduler keeps a reference to `optimizer`.
LOOM_API std::unique_ptr<LRScheduler> build_scheduler(const nlohmann::json& spec, Optimizer& optimizer);

// The registered names, sorted.
LOOM_API std::vector<std::string> optimizer_types();
LOOM_API std::vector<std::string> scheduler_types();

}  // namespace loom::optim
