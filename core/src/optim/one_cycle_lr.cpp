// OneCycleLR: the 1cycle policy of Smith & Topin, as PyTorch 1.13 computes it.
#include <cmath>
#include <numbers>

#include "loom/check.hpp"
#include "loom/optim/optimizer.hpp"
#include "loom/optim/scheduler.hpp"

namespace loom::optim {

OneCycleLR::OneCycleLR(Optimizer& optimizer, OneCycleLROptions options)
    : LRScheduler(optimizer, "OneCycleLR"), options_(options) {
  auto& o = options_;
  if (o.total_steps <= 0) {
    LOOM_CHECK(o.epochs > 0 && o.steps_per_epoch > 0, ValueError,
               "OneCycleLR: give total_steps > 0, or epochs > 0 and steps_per_epoch > 0; found total_steps {}, "
               "epochs {}, steps_per_epoch {}", o.total_steps, o.epochs, o.steps_per_epoch);
    o.total_steps = o.epochs * o.steps_per_epoch;
  }
  LOOM_CHECK(o.pct_start >= 0 && o.pct_start <= 1, ValueError, "OneCycleLR: option pct_start must be in [0, 1], found {}",
             o.pct_start);
  LOOM_CHECK(o.max_lr >= 0, ValueError, "OneCycleLR: option max_lr must be >= 0, found {}", o.max_lr);
  LOOM_CHECK(o.div_factor > 0 && o.final_div_factor > 0, ValueError,
             "OneCycleLR: options div_factor and final_div_factor must be > 0, found {} and {}", o.div_factor,
             o.final_div_factor);

  const double initial_lr = o.max_lr / o.div_factor;
  const double min_lr = initial_lr / o.final_div_factor;
  const double total = o.total_steps;
  const double up_end = o.pct_start * total - 1;
  if (o.three_phase) {
    phases_ = {{up_end, initial_lr, o.max_lr, o.max_momentum, o.base_momentum},
               {2 * o.pct_start * total - 2, o.max_lr, initial_lr, o.base_momentum, o.max_momentum},
               {total - 1, initial_lr, min_lr, o.max_momentum, o.max_momentum}};
  } else {
    phases_ = {{up_end, initial_lr, o.max_lr, o.max_momentum, o.base_momentum},
               {total - 1, o.max_lr, min_lr, o.base_momentum, o.max_momentum}};
  }

  if (o.cycle_momentum) {
    if (optimizer.has_option("momentum")) momentum_option_ = "momentum";
    else if (optimizer.has_option("beta1")) momentum_option_ = "beta1";
    LOOM_CHECK(momentum_option_ != nullptr, ValueError,
               "OneCycleLR: option cycle_momentum needs an optimizer with a 'momentum' or 'beta1' option; {} has "
               "neither (pass cycle_momentum = false)", optimizer.name());
    for (std::size_t g = 0; g < optimizer.num_param_groups(); ++g)
      optimizer.set_option(g, momentum_option_, o.max_momentum);
  }
  base_lrs_.assign(optimizer.num_param_groups(), initial_lr);
  initial_step();
}

double OneCycleLR::anneal(double start, double end, double pct) const {
  if (options_.anneal_strategy == AnnealStrategy::Linear) return (end - start) * pct + start;
  return end + (start - end) / 2 * (std::cos(std::numbers::pi * pct) + 1);
}

std::vector<double> OneCycleLR::get_lr() {
  const int step = last_epoch_;
  // PyTorch also allows step == total_steps, extrapolating past the end of the cycle (to a
  // negative lr with linear annealing); Loom stops at the cycle's last step.
  LOOM_CHECK(step < options_.total_steps, ValueError,
             "OneCycleLR: step {} is past the end of the cycle: total_steps is {} (steps 0 to {})", step,
             options_.total_steps, options_.total_steps - 1);
  double start_step = 0;
  double lr = 0;
  double momentum = 0;
  for (std::size_t i = 0; i < phases_.size(); ++i) {
    const Phase& phase = phases_[i];
    if (step <= phase.end_step || i + 1 == phases_.size()) {
      const double pct = (step - start_step) / (phase.end_step - start_step);
      lr = anneal(phase.start_lr, phase.end_lr, pct);
      momentum = anneal(phase.start_momentum, phase.end_momentum, pct);
      break;
    }
    start_step = phase.end_step;
  }
  if (momentum_option_ != nullptr)
    for (std::size_t g = 0; g < optimizer_.num_param_groups(); ++g) optimizer_.set_option(g, momentum_option_, momentum);
  return std::vector<double>(optimizer_.num_param_groups(), lr);
}

}  // namespace loom::optim
