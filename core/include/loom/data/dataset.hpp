#pragma once
// Datasets: numbered examples, each an (input, target) pair of CPU tensors.
//
// ```cpp
// auto train = std::make_shared<loom::data::HDF5Dataset>("datasets/fashion-mnist.h5", "train");
// loom::data::Example e = train->get(0);   // e.input: (1, 28, 28) float32, e.target: () int64
// ```
//
// get() is called from the DataLoader's worker threads at the same time: implementations are
// thread-safe for concurrent calls and return tensors nobody else holds (a transform may write
// into them).
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "loom/export.hpp"
#include "loom/tensor.hpp"

namespace loom::data {

struct Example {
  Tensor input;   // e.g. an image (C, H, W)
  Tensor target;  // a class label () int64, or a mask (H, W) int64, or any tensor
};

class LOOM_API Dataset {
 public:
  virtual ~Dataset();
  virtual std::int64_t size() const = 0;
  // Example `index` in [0, size()); out of range is an IndexError naming the dataset.
  virtual Example get(std::int64_t index) const = 0;
  // The examples at `indices` already stacked: input (B, ...), target (B, ...) — a fast path
  // the DataLoader takes for batches without a transform. The default returns nothing and the
  // loader stacks get() results itself; an override must give exactly what that would.
  virtual std::optional<Example> get_batch(std::span<const std::int64_t> indices) const;
  // A hint that these examples will be asked for soon, in this order (the DataLoader sends
  // the indices of the batches it is about to build): a streaming dataset starts reading
  // their chunks. The default does nothing.
  virtual void will_need(std::span<const std::int64_t> indices) const;
  // For error messages and logs ("fashion-mnist.h5:/train").
  virtual std::string name() const;
  // The target of every example as one (N) int64 tensor when targets are class labels
  // (stratified splits, class counts), otherwise an undefined Tensor.
  virtual Tensor labels() const;
};

// Examples are rows of two tensors: inputs (N, ...) and targets (N, ...).
class LOOM_API TensorDataset : public Dataset {
 public:
  TensorDataset(Tensor inputs, Tensor targets, std::string name = "TensorDataset");
  std::int64_t size() const override;
  Example get(std::int64_t index) const override;
  std::optional<Example> get_batch(std::span<const std::int64_t> indices) const override;
  std::string name() const override { return name_; }
  Tensor labels() const override;

 private:
  Tensor inputs_, targets_;
  std::string name_;
};

// The examples of `base` at `indices` (a validation split, a fold, a class subset).
class LOOM_API Subset : public Dataset {
 public:
  Subset(std::shared_ptr<const Dataset> base, std::vector<std::int64_t> indices);
  std::int64_t size() const override { return static_cast<std::int64_t>(indices_.size()); }
  Example get(std::int64_t index) const override;
  std::optional<Example> get_batch(std::span<const std::int64_t> indices) const override;
  void will_need(std::span<const std::int64_t> indices) const override;
  std::string name() const override;
  Tensor labels() const override;
  const std::vector<std::int64_t>& indices() const { return indices_; }

 private:
  std::shared_ptr<const Dataset> base_;
  std::vector<std::int64_t> indices_;
};

}  // namespace loom::data
