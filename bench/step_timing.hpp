#pragma once
// Timing of training steps, shared by bench_train_step and bench_sequence_step.
#include <algorithm>
#include <chrono>
#include <vector>

#include "loom/profile.hpp"

namespace loom_bench {

inline double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The median time of `steps` calls of step() after `warmup` untimed ones. The profile table is
// reset after the warm-up, so LOOM_PROFILE=1 shows the timed steps only.
template <typename Step>
double median_step_ms(Step&& step, int warmup, int steps) {
  std::vector<double> ts;
  for (int i = 0; i < warmup + steps; ++i) {
    if (i == warmup) loom::reset_profile();
    const double t0 = now_ms();
    step();
    if (i >= warmup) ts.push_back(now_ms() - t0);
  }
  std::sort(ts.begin(), ts.end());
  return ts[ts.size() / 2];
}

}  // namespace loom_bench
