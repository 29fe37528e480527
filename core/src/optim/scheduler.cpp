// Epoch schedulers: the base class and the closed or chainable forms of PyTorch 1.13.
#include "loom/optim/scheduler.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "loom/check.hpp"
#include "loom/optim/optimizer.hpp"

namespace loom::optim {

// ---- LRScheduler ------------------------------------------------------------------------------

LRScheduler::LRScheduler(Optimizer& optimizer, std::string name) : optimizer_(optimizer), name_(std::move(name)) {
  for (std::size_t g = 0; g < optimizer.num_param_groups(); ++g) base_lrs_.push_back(optimizer.lr(g));
}

LRScheduler::~LRScheduler() = default;

double LRScheduler::group_lr(std::size_t group) const { return optimizer_.lr(group); }

void LRScheduler::step() {
  ++step_count_;
  ++last_epoch_;
  last_lrs_ = get_lr();
  for (std::size_t g = 0; g < last_lrs_.size(); ++g) optimizer_.set_lr(g, last_lrs_[g]);
}

SchedulerState LRScheduler::state_dict() const {
  SchedulerState out;
  out.type = name_;
  out.scalars["last_epoch"] = last_epoch_;
  out.scalars["step_count"] = step_count_;
  for (std::size_t g = 0; g < base_lrs_.size(); ++g) {
    out.scalars[fmt::format("base_lrs.{}", g)] = base_lrs_[g];
    out.scalars[fmt::format("last_lrs.{}", g)] = last_lrs_.at(g);
  }
  save_own_state(out);
  return out;
}

double LRScheduler::state_scalar(const SchedulerState& state, const std::string& key) const {
  const auto it = state.scalars.find(key);
  LOOM_CHECK(it != state.scalars.end(), ValueError, "{}: load_state_dict: '{}' is missing", name_, key);
  return it->second;
}

void LRScheduler::load_state_dict(const SchedulerState& state) {
  LOOM_CHECK(state.type.empty() || state.type == name_, ValueError,
             "{}: load_state_dict: expected the state of a {} scheduler, found the state of {}", name_, name_,
             state.type);
  // Read everything first, so that a state with a missing entry changes nothing.
  const int last_epoch = static_cast<int>(state_scalar(state, "last_epoch"));
  const int step_count = static_cast<int>(state_scalar(state, "step_count"));
  std::vector<double> base_lrs(base_lrs_.size()), last_lrs(base_lrs_.size());
  for (std::size_t g = 0; g < base_lrs_.size(); ++g) {
    base_lrs[g] = state_scalar(state, fmt::format("base_lrs.{}", g));
    last_lrs[g] = state_scalar(state, fmt::format("last_lrs.{}", g));
  }
  load_own_state(state);
  last_epoch_ = last_epoch;
  step_count_ = step_count;
  base_lrs_ = std::move(base_lrs);
  last_lrs_ = std::move(last_lrs);
}

// ---- LambdaLR ---------------------------------------------------------------------------------

LambdaLR::LambdaLR(Optimizer& optimizer, Factor factor)
    : LRScheduler(optimizer, "LambdaLR"), factor_(std::move(factor)) {
  LOOM_CHECK(factor_ != nullptr, ValueError, "LambdaLR: expected a factor function, found an empty one");
  initial_step();
}

std::vector<double> LambdaLR::get_lr() {
  std::vector<double> lrs;
  for (double base : base_lrs_) lrs.push_back(base * factor_(last_epoch_));
  return lrs;
}

// ---- StepLR, MultiStepLR, ExponentialLR -----------------------------------------------------------

StepLR::StepLR(Optimizer& optimizer, StepLROptions options)
    : LRScheduler(optimizer, "StepLR"), options_(options) {
  LOOM_CHECK(options.step_size >= 1, ValueError, "StepLR: option step_size must be >= 1, found {}", options.step_size);
  initial_step();
}

std::vector<double> StepLR::get_lr() {
  const bool decay = last_epoch_ != 0 && last_epoch_ % options_.step_size == 0;
  std::vector<double> lrs;
  for (std::size_t g = 0; g < base_lrs_.size(); ++g) lrs.push_back(group_lr(g) * (decay ? options_.gamma : 1.0));
  return lrs;
}

MultiStepLR::MultiStepLR(Optimizer& optimizer, MultiStepLROptions options)
    : LRScheduler(optimizer, "MultiStepLR"), options_(std::move(options)) {
  initial_step();
}

std::vector<double> MultiStepLR::get_lr() {
  const auto hits = std::count(options_.milestones.begin(), options_.milestones.end(), last_epoch_);
  std::vector<double> lrs;
  for (std::size_t g = 0; g < base_lrs_.size(); ++g)
    lrs.push_back(hits == 0 ? group_lr(g) : group_lr(g) * std::pow(options_.gamma, static_cast<double>(hits)));
  return lrs;
}

ExponentialLR::ExponentialLR(Optimizer& optimizer, double gamma)
    : LRScheduler(optimizer, "ExponentialLR"), gamma_(gamma) {
  initial_step();
}

std::vector<double> ExponentialLR::get_lr() {
  std::vector<double> lrs;
  for (std::size_t g = 0; g < base_lrs_.size(); ++g) lrs.push_back(last_epoch_ == 0 ? group_lr(g) : group_lr(g) * gamma_);
  return lrs;
}

// ---- CosineAnnealingLR, LinearLR ----------------------------------------------------------------

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, CosineAnnealingLROptions options)
    : LRScheduler(optimizer, "CosineAnnealingLR"), options_(options) {
  LOOM_CHECK(options.T_max >= 1, ValueError, "CosineAnnealingLR: option T_max must be >= 1, found {}", options.T_max);
  initial_step();
}

std::vector<double> CosineAnnealingLR::get_lr() {
  constexpr double pi = std::numbers::pi;
  const int T = options_.T_max;
  const double eta_min = options_.eta_min;
  std::vector<double> lrs;
  for (std::size_t g = 0; g < base_lrs_.size(); ++g) {
    const double lr = group_lr(g);
    if (last_epoch_ == 0) {
      lrs.push_back(lr);
    } else if ((last_epoch_ - 1 - T) % (2 * T) == 0) {  // the trough: climb back as a cosine
      lrs.push_back(lr + (base_lrs_[g] - eta_min) * (1 - std::cos(pi / T)) / 2);
    } else {
      lrs.push_back((1 + std::cos(pi * last_epoch_ / T)) / (1 + std::cos(pi * (last_epoch_ - 1) / T)) *
                        (lr - eta_min) + eta_min);
    }
  }
  return lrs;
}

LinearLR::LinearLR(Optimizer& optimizer, LinearLROptions options)
    : LRScheduler(optimizer, "LinearLR"), options_(options) {
  LOOM_CHECK(options.start_factor > 0 && options.start_factor <= 1, ValueError,
             "LinearLR: option start_factor must be in (0, 1], found {}", options.start_factor);
  LOOM_CHECK(options.end_factor >= 0 && options.end_factor <= 1, ValueError,
             "LinearLR: option end_factor must be in [0, 1], found {}", options.end_factor);
  LOOM_CHECK(options.total_iters >= 1, ValueError, "LinearLR: option total_iters must be >= 1, found {}",
             options.total_iters);
  initial_step();
}

std::vector<double> LinearLR::get_lr() {
  const auto& [start, end, total] = options_;
  std::vector<double> lrs;
  for (std::size_t g = 0; g < base_lrs_.size(); ++g) {
    const double lr = group_lr(g);
    if (last_epoch_ == 0) lrs.push_back(lr * start);
    else if (last_epoch_ > total) lrs.push_back(lr);
    else lrs.push_back(lr * (1 + (end - start) / (total * start + (last_epoch_ - 1) * (end - start))));
  }
  return lrs;
}

}  // namespace loom::optim
