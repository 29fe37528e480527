#pragma once
// The learning rate of a per-step schedule the Transformer experiments share: a linear warm-up,
// then a cosine decay to 0. Set before every step from (epoch, batch index), so a resumed run
// continues the curve exactly:
//
//   optimizer.set_lr(0, experiments::warmup_cosine_lr(lr, epoch * steps_per_epoch + index, warmup, total));
#include <cmath>
#include <cstdint>
#include <numbers>

namespace loom::experiments {

// Step `step` (from 0) of `total_steps`: lr · (step + 1) / warmup_steps during the warm-up, then
// lr · ½ (1 + cos(π · progress)) with progress from 0 at the warm-up's end to 1 at total_steps.
// Expects 1 ≤ warmup_steps < total_steps.
inline double warmup_cosine_lr(double lr, std::int64_t step, std::int64_t warmup_steps, std::int64_t total_steps) {
  if (step < warmup_steps) return lr * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  const double progress = static_cast<double>(step - warmup_steps) / static_cast<double>(total_steps - warmup_steps);
  return lr * 0.5 * (1 + std::cos(std::numbers::pi * progress));
}

// The warm-up's steps for `warmup_epochs` (fractional) of `steps_per_epoch`, at least 1 and
// less than the run's total (a run of one step has a warm-up of 1).
inline std::int64_t warmup_steps(double warmup_epochs, std::int64_t steps_per_epoch, std::int64_t total_steps) {
  const auto steps = static_cast<std::int64_t>(std::llround(warmup_epochs * static_cast<double>(steps_per_epoch)));
  const std::int64_t upper = total_steps > 1 ? total_steps - 1 : 1;
  return steps < 1 ? 1 : (steps > upper ? upper : steps);
}

}  // namespace loom::experiments
