#pragma once
// Learning-rate schedulers with PyTorch 1.13's semantics and sequences. Constructing one sets
// the epoch-0 learning rate (the first get_last_lr() is the initial lr, or start_factor·lr for
// LinearLR, max_lr/div_factor for OneCycleLR); each step() moves one epoch (or one batch for
// OneCycleLR) and writes the new rate into every parameter group. Where PyTorch computes the
// next rate from the group's current one (StepLR, MultiStepLR, ExponentialLR,
// CosineAnnealingLR, LinearLR: "chainable" forms), so does Loom, so schedulers compose and
// manual changes of lr persist as PyTorch's do.
//
// ```cpp
// loom::nn::Linear model(4, 2);
// loom::optim::SGD sgd(model.parameters(), {.lr = 0.1});
// loom::optim::LambdaLR decay(sgd, [](int epoch) { return 1.0 / (1 + epoch); });  // 0.1, 0.05, ...
// for (int epoch = 0; epoch < 10; ++epoch) { /* train one epoch */ decay.step(); }
// ```
//
// Unlike PyTorch, which records a group's first lr as "initial_lr" and lets a second scheduler
// on the same optimizer start from it, each Loom scheduler's base_lrs are the rates when it
// is made. A scheduler keeps a reference to its optimizer, which must outlive it. State is the
// scheduler's type name ("StepLR") and plain numbers: "last_epoch", "step_count",
// "base_lrs.<g>", "last_lrs.<g>" and a scheduler's own ("best", "num_bad_epochs", ... for
// ReduceLROnPlateau). A LambdaLR's function is not state.
//
// ReduceLROnPlateau is an LRScheduler too (as in PyTorch ≥ 2.2), so checkpoints take it, but it
// is stepped with the metric it watches: step(metric); its step() is a ValueError.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "loom/export.hpp"

namespace loom::optim {

class Optimizer;

struct SchedulerState {
  // The scheduler's name() ("StepLR", "ReduceLROnPlateau"); empty in states saved before
  // schedulers recorded it (version-1 checkpoints), which are loaded without the type check.
  std::string type;
  std::map<std::string, double> scalars;
};

class LOOM_API LRScheduler {
 public:
  virtual ~LRScheduler();
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  // One epoch (one batch for OneCycleLR): computes the new rates and writes them into the groups.
  virtual void step();
  const std::vector<double>& get_last_lr() const { return last_lrs_; }
  int last_epoch() const { return last_epoch_; }
  const std::string& name() const { return name_; }  // "StepLR", "ReduceLROnPlateau", ...
  SchedulerState state_dict() const;
  // A state of another type, or one missing an entry, is a ValueError naming both types or the
  // entry; nothing changes then.
  void load_state_dict(const SchedulerState& state);

 protected:
  LRScheduler(Optimizer& optimizer, std::string name);
  // Sets the epoch-0 rates; derived constructors call it once their members are set.
  void initial_step() { LRScheduler::step(); }
  // The rates for last_epoch_ (already advanced), one per group.
  virtual std::vector<double> get_lr() = 0;
  double group_lr(std::size_t group) const;
  // A scheduler's own state beyond the base's numbers. load_own_state reads every entry it needs
  // (through state_scalar, which throws for a missing one) before it changes anything.
  virtual void save_own_state(SchedulerState& /*state*/) const {}
  virtual void load_own_state(const SchedulerState& /*state*/) {}
  double state_scalar(const SchedulerState& state, const std::string& key) const;

  Optimizer& optimizer_;
  std::vector<double> base_lrs_;  // each group's lr when the scheduler was made
  std::vector<double> last_lrs_;
  int last_epoch_ = -1;
  int step_count_ = 0;

 private:
  std::string name_;
};

// lr = base_lr · factor(epoch): any formula.
class LOOM_API LambdaLR : public LRScheduler {
 public:
  using Factor = std::function<double(int epoch)>;
  LambdaLR(Optimizer& optimizer, Factor factor);

 protected:
  std::vector<double> get_lr() override;

 private:
  Factor factor_;
};

struct StepLROptions {
  int step_size = 1;   // epochs between decays
  double gamma = 0.1;
};
// lr ← γ·lr every step_size epochs.
class LOOM_API StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, StepLROptions options);

 protected:
  std::vector<double> get_lr() override;

 private:
  StepLROptions options_;
};

struct MultiStepLROptions {
  std::vector<int> milestones;  // epochs at which lr ← γ·lr (a repeated epoch decays twice)
  double gamma = 0.1;
};
class LOOM_API MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& optimizer, MultiStepLROptions options);

 protected:
  std::vector<double> get_lr() override;

 private:
  MultiStepLROptions options_;
};

// lr ← γ·lr every epoch.
class LOOM_API ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, double gamma);

 protected:
  std::vector<double> get_lr() override;

 private:
  double gamma_;
};

struct CosineAnnealingLROptions {
  int T_max = 1;        // half period, in epochs
  double eta_min = 0;
};
// lr = η_min + (base_lr − η_min)(1 + cos(π·epoch/T_max))/2, continued as a cosine wave after
// T_max (PyTorch's recursive form).
class LOOM_API CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, CosineAnnealingLROptions options);

 protected:
  std::vector<double> get_lr() override;

 private:
  CosineAnnealingLROptions options_;
};

struct LinearLROptions {
  double start_factor = 1.0 / 3;  // in (0, 1]
  double end_factor = 1.0;        // in [0, 1]
  int total_iters = 5;
};
// Linear warm-up: lr = base_lr · (start_factor → end_factor over total_iters epochs).
class LOOM_API LinearLR : public LRScheduler {
 public:
  LinearLR(Optimizer& optimizer, LinearLROptions options = {});

 protected:
  std::vector<double> get_lr() override;

 private:
  LinearLROptions options_;
};

enum class AnnealStrategy { Cos, Linear };
struct OneCycleLROptions {
  double max_lr = 0.1;           // for every group
  int total_steps = 0;           // or epochs · steps_per_epoch when 0
  int epochs = 0;
  int steps_per_epoch = 0;
  double pct_start = 0.3;        // fraction of the cycle spent increasing lr
  AnnealStrategy anneal_strategy = AnnealStrategy::Cos;
  bool cycle_momentum = true;    // "momentum" (SGD, RMSProp) or "beta1" (Adam, AdamW)
  double base_momentum = 0.85;
  double max_momentum = 0.95;
  double div_factor = 25;        // initial lr = max_lr / div_factor
  double final_div_factor = 1e4; // min lr = initial lr / final_div_factor
  bool three_phase = false;      // up, down to the initial lr, then down to the min lr
};
// The 1cycle policy; step() once per batch: construction is step 0, and total_steps − 1 calls
// of step() reach the end of the cycle (one more is a ValueError).
class LOOM_API OneCycleLR : public LRScheduler {
 public:
  OneCycleLR(Optimizer& optimizer, OneCycleLROptions options);

 protected:
  std::vector<double> get_lr() override;

 private:
  struct Phase {
    double end_step;
    double start_lr, end_lr, start_momentum, end_momentum;
  };
  double anneal(double start, double end, double pct) const;

  OneCycleLROptions options_;
  std::vector<Phase> phases_;
  const char* momentum_option_ = nullptr;  // "momentum", "beta1" or none
};

enum class PlateauMode { Min, Max };
enum class ThresholdMode { Rel, Abs };
struct ReduceLROnPlateauOptions {
  PlateauMode mode = PlateauMode::Min;  // Min: the metric should fall (a loss); Max: rise
  double factor = 0.1;                  // lr ← max(factor·lr, min_lr); factor < 1
  int patience = 10;                    // epochs without improvement tolerated
  double threshold = 1e-4;              // what counts as an improvement
  ThresholdMode threshold_mode = ThresholdMode::Rel;
  int cooldown = 0;                     // epochs to wait after a reduction
  double min_lr = 0;
  double eps = 1e-8;                    // changes smaller than this are not made
};
// Reduces the lr when a metric has stopped improving; step(metric) once per epoch. Construction
// leaves the rates as they are (last_epoch 0, as PyTorch). Its own state: "best",
// "num_bad_epochs", "cooldown_counter".
class LOOM_API ReduceLROnPlateau : public LRScheduler {
 public:
  ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options = {});
  void step(double metric);
  // A ValueError naming step(metric): there is no metric to judge the epoch by.
  void step() override;

 protected:
  std::vector<double> get_lr() override;  // judges metric_
  void save_own_state(SchedulerState& state) const override;
  void load_own_state(const SchedulerState& state) override;

 private:
  bool is_better(double metric) const;

  ReduceLROnPlateauOptions options_;
  double metric_ = 0;  // the one step(metric) is judging
  double best_;
  int num_bad_epochs_ = 0;
  int cooldown_counter_ = 0;
};

}  // namespace loom::optim
