#pragma once
// Normalisation layers: BatchNorm1d/2d, LayerNorm, GroupNorm, InstanceNorm2d (the functions
// are in loom/nn/functional/normalization.hpp). Defaults as PyTorch; COURSE.md: momentum 0.1
// (running = 0.9·running + 0.1·batch), eps 1e-5, the unbiased batch variance in running_var.
//
// ```cpp
// auto bn = std::make_shared<loom::nn::BatchNorm2d>(64);   // weight 1, bias 0, running 0 / 1
// loom::Tensor y = (*bn)(loom::randn({8, 64, 4, 4}));    // train(): batch statistics, running stats
//                                                         // updated; eval(): the running stats
// ```
//
// For summary() they count no multiply-adds and keep each position's receptive field
// (loom/nn/layer_stats.hpp: batch norm folds into the layer before it at inference; the course
// follows windows, not per-sample statistics).
#include <cstdint>
#include <optional>

#include "loom/nn/functional/normalization.hpp"
#include "loom/nn/module.hpp"

namespace loom::nn {

struct BatchNormOptions {
  std::int64_t num_features = 0;
  double eps = 1e-5;
  // nullopt: a cumulative average, factor 1/num_batches_tracked (PyTorch's momentum=None).
  std::optional<double> momentum = 0.1;
  bool affine = true;               // parameters weight (ones) and bias (zeros)
  bool track_running_stats = true;  // buffers running_mean, running_var, num_batches_tracked (int64)
};

// Batch normalisation over every dim but the channels (dim 1). Without track_running_stats it
// uses batch statistics in eval() too. Subclasses fix the input rank.
class LOOM_API BatchNorm : public Module {
 public:
  BatchNorm(std::string type_name, BatchNormOptions options);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes&, const Shapes&) const override { return LayerStats{}; }
  void reset_running_stats();
  void reset_parameters();  // also resets the running stats

  BatchNormOptions options;
  Tensor weight, bias;                                   // (C), undefined without affine
  Tensor running_mean, running_var, num_batches_tracked;  // undefined without track_running_stats

 protected:
  // Throws a ShapeError naming the layer when x's rank is not one it takes.
  virtual void check_rank(const Tensor& x) const = 0;
};

// x: (N, C) or (N, C, L).
class LOOM_API BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(BatchNormOptions options) : BatchNorm("BatchNorm1d", options) {}
  explicit BatchNorm1d(std::int64_t num_features) : BatchNorm1d(BatchNormOptions{.num_features = num_features}) {}

 protected:
  void check_rank(const Tensor& x) const override;
};

// x: (N, C, H, W).
class LOOM_API BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(BatchNormOptions options) : BatchNorm("BatchNorm2d", options) {}
  explicit BatchNorm2d(std::int64_t num_features) : BatchNorm2d(BatchNormOptions{.num_features = num_features}) {}

 protected:
  void check_rank(const Tensor& x) const override;
};

struct LayerNormOptions {
  Shape normalized_shape{};  // the trailing dims to normalise over
  double eps = 1e-5;
  bool elementwise_affine = true;  // weight (ones) and bias (zeros) of shape normalized_shape
};

class LOOM_API LayerNorm : public Module {
 public:
  explicit LayerNorm(LayerNormOptions options);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes&, const Shapes&) const override { return LayerStats{}; }

  LayerNormOptions options;
  Tensor weight, bias;
};

struct GroupNormOptions {
  std::int64_t num_groups = 0;
  std::int64_t num_channels = 0;  // divisible by num_groups
  double eps = 1e-5;
  bool affine = true;  // per-channel weight (ones) and bias (zeros)
};

class LOOM_API GroupNorm : public Module {
 public:
  explicit GroupNorm(GroupNormOptions options);
  GroupNorm(std::int64_t num_groups, std::int64_t num_channels)
      : GroupNorm(GroupNormOptions{.num_groups = num_groups, .num_channels = num_channels}) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes&, const Shapes&) const override { return LayerStats{}; }

  GroupNormOptions options;
  Tensor weight, bias;
};

// PyTorch's defaults differ from batch norm's: no affine parameters, no running stats.
struct InstanceNormOptions {
  std::int64_t num_features = 0;
  double eps = 1e-5;
  double momentum = 0.1;
  bool affine = false;
  bool track_running_stats = false;
};

// x: (N, C, H, W) or (C, H, W). Statistics per sample and channel; with track_running_stats,
// eval() uses the running stats.
class LOOM_API InstanceNorm2d : public Module {
 public:
  explicit InstanceNorm2d(InstanceNormOptions options);
  explicit InstanceNorm2d(std::int64_t num_features)
      : InstanceNorm2d(InstanceNormOptions{.num_features = num_features}) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes&, const Shapes&) const override { return LayerStats{}; }

  InstanceNormOptions options;
  Tensor weight, bias;
  Tensor running_mean, running_var, num_batches_tracked;
};

}  // namespace loom::nn
