#include "loom/data/dataset.hpp"

#include <fmt/format.h>

#include "data_internal.hpp"
#include "loom/check.hpp"
#include "loom/error.hpp"

namespace loom::data {

Dataset::~Dataset() = default;
std::optional<Example> Dataset::get_batch(std::span<const std::int64_t>) const { return std::nullopt; }
void Dataset::will_need(std::span<const std::int64_t>) const {}
std::string Dataset::name() const { return "Dataset"; }
Tensor Dataset::labels() const { return Tensor(); }

TensorDataset::TensorDataset(Tensor inputs, Tensor targets, std::string name)
    : inputs_(std::move(inputs)), targets_(std::move(targets)), name_(std::move(name)) {
  LOOM_CHECK(inputs_.defined() && targets_.defined(), ValueError, "{}: inputs and targets must both be defined tensors",
             name_);
  LOOM_CHECK(inputs_.dim() >= 1 && targets_.dim() >= 1, ShapeError,
             "{}: expected inputs and targets with a leading example dim, found shapes {} and {}", name_,
             inputs_.sizes().str(), targets_.sizes().str());
  LOOM_CHECK(inputs_.size(0) == targets_.size(0), ShapeError,
             "{}: expected as many targets as inputs, found {} inputs {} and {} targets {}", name_, inputs_.size(0),
             inputs_.sizes().str(), targets_.size(0), targets_.sizes().str());
  LOOM_CHECK(inputs_.device() == kCPU && targets_.device() == kCPU, DeviceError,
             "{}: expected tensors on cpu, found {} and {}", name_, inputs_.device().str(), targets_.device().str());
  inputs_ = inputs_.contiguous();
  targets_ = targets_.contiguous();
}

std::int64_t TensorDataset::size() const { return inputs_.size(0); }

Example TensorDataset::get(std::int64_t index) const {
  LOOM_CHECK(index >= 0 && index < size(), IndexError, "{}: index {} out of range [0, {})", name_, index, size());
  return {detail::copy_row(inputs_, index), detail::copy_row(targets_, index)};
}

std::optional<Example> TensorDataset::get_batch(std::span<const std::int64_t> indices) const {
  if (inputs_.device() != kCPU) return std::nullopt;
  for (std::int64_t index : indices)
    LOOM_CHECK(index >= 0 && index < size(), IndexError, "{}: index {} out of range [0, {})", name_, index, size());
  return Example{detail::gather_rows(inputs_, indices), detail::gather_rows(targets_, indices)};
}

Tensor TensorDataset::labels() const {
  return targets_.dim() == 1 && targets_.dtype() == DType::Int64 ? targets_ : Tensor();
}

Subset::Subset(std::shared_ptr<const Dataset> base, std::vector<std::int64_t> indices)
    : base_(std::move(base)), indices_(std::move(indices)) {
  LOOM_CHECK(base_ != nullptr, ValueError, "Subset: the base dataset is null");
  const std::int64_t n = base_->size();
  for (std::size_t i = 0; i < indices_.size(); ++i)
    LOOM_CHECK(indices_[i] >= 0 && indices_[i] < n, IndexError,
               "Subset of {}: index {} (position {}) out of range [0, {})", base_->name(), indices_[i], i, n);
}

Example Subset::get(std::int64_t index) const {
  LOOM_CHECK(index >= 0 && index < size(), IndexError, "{}: index {} out of range [0, {})", name(), index, size());
  return base_->get(indices_[static_cast<std::size_t>(index)]);
}

std::optional<Example> Subset::get_batch(std::span<const std::int64_t> indices) const {
  std::vector<std::int64_t> mapped;
  mapped.reserve(indices.size());
  for (std::int64_t index : indices) {
    LOOM_CHECK(index >= 0 && index < size(), IndexError, "{}: index {} out of range [0, {})", name(), index, size());
    mapped.push_back(indices_[static_cast<std::size_t>(index)]);
  }
  return base_->get_batch(mapped);
}

void Subset::will_need(std::span<const std::int64_t> indices) const {
  std::vector<std::int64_t> mapped;
  mapped.reserve(indices.size());
  for (std::int64_t i : indices)
    if (i >= 0 && i < size()) mapped.push_back(indices_[static_cast<std::size_t>(i)]);
  base_->will_need(mapped);
}

std::string Subset::name() const { return fmt::format("Subset({}, {} examples)", base_->name(), indices_.size()); }

Tensor Subset::labels() const {
  Tensor all = base_->labels();
  if (!all.defined()) return all;
  const std::int64_t* src = all.contiguous().data_ptr<std::int64_t>();
  std::vector<std::int64_t> picked(indices_.size());
  for (std::size_t i = 0; i < indices_.size(); ++i) picked[i] = src[indices_[i]];
  return from_vector(picked);
}

}  // namespace loom::data
