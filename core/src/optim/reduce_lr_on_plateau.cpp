#include <algorithm>
#include <limits>

#include "loom/check.hpp"
#include "loom/optim/optimizer.hpp"
#include "loom/optim/scheduler.hpp"

namespace loom::optim {

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options)
    : optimizer_(optimizer), options_(options) {
  LOOM_CHECK(options.factor < 1 && options.factor >= 0, ValueError,
             "ReduceLROnPlateau: option factor must be in [0, 1), found {}", options.factor);
  LOOM_CHECK(options.patience >= 0, ValueError, "ReduceLROnPlateau: option patience must be >= 0, found {}",
             options.patience);
  LOOM_CHECK(options.cooldown >= 0, ValueError, "ReduceLROnPlateau: option cooldown must be >= 0, found {}",
             options.cooldown);
  LOOM_CHECK(options.min_lr >= 0, ValueError, "ReduceLROnPlateau: option min_lr must be >= 0, found {}", options.min_lr);
  const double inf = std::numeric_limits<double>::infinity();
  best_ = options.mode == PlateauMode::Min ? inf : -inf;
  for (std::size_t g = 0; g < optimizer.num_param_groups(); ++g) last_lrs_.push_back(optimizer.lr(g));
}

bool ReduceLROnPlateau::is_better(double metric) const {
  const double th = options_.threshold;
  const bool rel = options_.threshold_mode == ThresholdMode::Rel;
  if (options_.mode == PlateauMode::Min) return metric < (rel ? best_ * (1 - th) : best_ - th);
  return metric > (rel ? best_ * (1 + th) : best_ + th);
}

void ReduceLROnPlateau::step(double metric) {
  ++last_epoch_;
  if (is_better(metric)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (cooldown_counter_ > 0) {  // bad epochs during a cooldown do not count
    --cooldown_counter_;
    num_bad_epochs_ = 0;
  }
  if (num_bad_epochs_ > options_.patience) {
    for (std::size_t g = 0; g < optimizer_.num_param_groups(); ++g) {
      const double old_lr = optimizer_.lr(g);
      const double new_lr = std::max(old_lr * options_.factor, options_.min_lr);
      if (old_lr - new_lr > options_.eps) optimizer_.set_lr(g, new_lr);
    }
    cooldown_counter_ = options_.cooldown;
    num_bad_epochs_ = 0;
  }
  for (std::size_t g = 0; g < optimizer_.num_param_groups(); ++g) last_lrs_[g] = optimizer_.lr(g);
}

SchedulerState ReduceLROnPlateau::state_dict() const {
  SchedulerState out;
  out.scalars = {{"best", best_}, {"num_bad_epochs", num_bad_epochs_}, {"cooldown_counter", cooldown_counter_},
                 {"last_epoch", last_epoch_}};
  for (std::size_t g = 0; g < last_lrs_.size(); ++g) out.scalars[fmt::format("last_lrs.{}", g)] = last_lrs_[g];
  return out;
}

void ReduceLROnPlateau::load_state_dict(const SchedulerState& state) {
  auto get = [&](const std::string& key) {
    const auto it = state.scalars.find(key);
    LOOM_CHECK(it != state.scalars.end(), ValueError, "ReduceLROnPlateau: load_state_dict: '{}' is missing", key);
    return it->second;
  };
  best_ = get("best");
  num_bad_epochs_ = static_cast<int>(get("num_bad_epochs"));
  cooldown_counter_ = static_cast<int>(get("cooldown_counter"));
  last_epoch_ = static_cast<int>(get("last_epoch"));
  for (std::size_t g = 0; g < last_lrs_.size(); ++g) last_lrs_[g] = get(fmt::format("last_lrs.{}", g));
}

}  // namespace loom::optim
