// ReduceLROnPlateau: an LRScheduler whose step takes the metric it watches (PyTorch 1.13's rule).
#include <algorithm>
#include <limits>

#include "loom/check.hpp"
#include "loom/optim/optimizer.hpp"
#include "loom/optim/scheduler.hpp"

namespace loom::optim {

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options)
    : LRScheduler(optimizer, "ReduceLROnPlateau"), options_(options) {
  LOOM_CHECK(options.factor < 1 && options.factor >= 0, ValueError,
             "ReduceLROnPlateau: option factor must be in [0, 1), found {}", options.factor);
  LOOM_CHECK(options.patience >= 0, ValueError, "ReduceLROnPlateau: option patience must be >= 0, found {}",
             options.patience);
  LOOM_CHECK(options.cooldown >= 0, ValueError, "ReduceLROnPlateau: option cooldown must be >= 0, found {}",
             options.cooldown);
  LOOM_CHECK(options.min_lr >= 0, ValueError, "ReduceLROnPlateau: option min_lr must be >= 0, found {}", options.min_lr);
  const double inf = std::numeric_limits<double>::infinity();
  best_ = options.mode == PlateauMode::Min ? inf : -inf;
  last_epoch_ = 0;
  last_lrs_ = base_lrs_;
}

bool ReduceLROnPlateau::is_better(double metric) const {
  const double th = options_.threshold;
  const bool rel = options_.threshold_mode == ThresholdMode::Rel;
  if (options_.mode == PlateauMode::Min) return metric < (rel ? best_ * (1 - th) : best_ - th);
  return metric > (rel ? best_ * (1 + th) : best_ + th);
}

void ReduceLROnPlateau::step(double metric) {
  metric_ = metric;
  LRScheduler::step();
}

void ReduceLROnPlateau::step() {
  LOOM_THROW(ValueError, "ReduceLROnPlateau: step() has no metric to judge the epoch by; call step(metric) "
                         "with the validation loss or accuracy it watches");
}

std::vector<double> ReduceLROnPlateau::get_lr() {
  if (is_better(metric_)) {
    best_ = metric_;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (cooldown_counter_ > 0) {  // bad epochs during a cooldown do not count
    --cooldown_counter_;
    num_bad_epochs_ = 0;
  }
  std::vector<double> lrs;
  for (std::size_t g = 0; g < optimizer_.num_param_groups(); ++g) lrs.push_back(group_lr(g));
  if (num_bad_epochs_ > options_.patience) {
    for (double& lr : lrs) {
      const double reduced = std::max(lr * options_.factor, options_.min_lr);
      if (lr - reduced > options_.eps) lr = reduced;
    }
    cooldown_counter_ = options_.cooldown;
    num_bad_epochs_ = 0;
  }
  return lrs;
}

void ReduceLROnPlateau::save_own_state(SchedulerState& state) const {
  state.scalars["best"] = best_;
  state.scalars["num_bad_epochs"] = num_bad_epochs_;
  state.scalars["cooldown_counter"] = cooldown_counter_;
}

void ReduceLROnPlateau::load_own_state(const SchedulerState& state) {
  const double best = state_scalar(state, "best");
  const double num_bad_epochs = state_scalar(state, "num_bad_epochs");
  const double cooldown_counter = state_scalar(state, "cooldown_counter");
  best_ = best;
  num_bad_epochs_ = static_cast<int>(num_bad_epochs);
  cooldown_counter_ = static_cast<int>(cooldown_counter);
}

}  // namespace loom::optim
