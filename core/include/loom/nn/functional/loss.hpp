#pragma once
// Losses as compositions of differentiable core ops (gradients, and gradients of gradients,
// come from the core's rules). Semantics follow PyTorch 1.13 exactly; conventions (COURSE.md):
// losses reduce by mean by default, and the 1/N lives here, never in a layer's backward.
//
// ```cpp
// loom::Tensor logits = loom::randn({8, 3}), labels = loom::randint(0, 3, {8}), w = loom::ones({3});
// loom::Tensor loss = loom::F::cross_entropy(logits, labels);                 // mean
// loom::F::cross_entropy(logits, labels, {.weight = w, .label_smoothing = 0.1});
// loom::F::mse_loss(logits, loom::zeros({8, 3}), loom::nn::Reduction::Sum);
// ```
//
// Every loss validates before computing: shapes (naming both), dtypes (int64 class indices,
// floating predictions), class indices in range (IndexError naming the loss and the value).
#include <cstdint>
#include <string>
#include <string_view>

#include "loom/export.hpp"
#include "loom/tensor.hpp"

namespace loom::nn {

// How a loss turns its per-element values into a result. Mean is declared first so that a
// value-initialised Reduction ({}) is the default. BatchMean (sum / batch size) is kl_div's.
enum class Reduction : unsigned char { Mean, Sum, None, BatchMean };

// "none", "mean", "sum", "batchmean".
LOOM_API const char* reduction_name(Reduction reduction);
// Parses a reduction name for `loss` (named in the error); "batchmean" only when allowed.
LOOM_API Reduction reduction_from_name(std::string_view name, std::string_view loss,
                                       bool allow_batchmean = false);

}  // namespace loom::nn

namespace loom::nn::functional {

struct MSELossOptions {
  Reduction reduction = Reduction::Mean;
};
struct L1LossOptions {
  Reduction reduction = Reduction::Mean;
};
// 0.5·d²/beta where |d| < beta, else |d| − 0.5·beta (beta = 0 is the L1 loss).
struct SmoothL1LossOptions {
  Reduction reduction = Reduction::Mean;
  double beta = 1.0;
};
// 0.5·d² where |d| < delta, else delta·(|d| − 0.5·delta); delta > 0.
struct HuberLossOptions {
  Reduction reduction = Reduction::Mean;
  double delta = 1.0;
};
// −w·(y·log x + (1 − y)·log(1 − x)), each log clamped at −100; x must lie in [0, 1].
struct BCELossOptions {
  Reduction reduction = Reduction::Mean;
  Tensor weight{};  // optional, broadcast to the input's shape
};
// (1 − y)·x + (1 + (p − 1)·y)·log(1 + e^−x), computed stably; p = pos_weight (per class,
// broadcast along the last dim), weight rescales each element.
struct BCEWithLogitsLossOptions {
  Reduction reduction = Reduction::Mean;
  Tensor weight{};
  Tensor pos_weight{};
};
// input: logits (N, C) or (N, C, d1, ...) or (C); target: int64 class indices (N, d1, ...)
// or class probabilities of the input's shape. With class weights the weighted mean divides
// by the sum of the weights of the non-ignored targets (class-index targets) or by the
// number of samples (probability targets), as PyTorch.
struct CrossEntropyLossOptions {
  Reduction reduction = Reduction::Mean;
  Tensor weight{};  // (C), optional
  std::int64_t ignore_index = -100;  // class-index targets only
  double label_smoothing = 0.0;      // in [0, 1]
};
// input: log-probabilities, same shapes as cross_entropy with class-index targets.
struct NLLLossOptions {
  Reduction reduction = Reduction::Mean;
  Tensor weight{};
  std::int64_t ignore_index = -100;
};
// Per sample Σ_{j≠y} w_y·max(0, margin − x_y + x_j)^p / C (PyTorch's form; the course's
// tables are these times C). input (N, C) or (C); target int64 (N) or ().
struct MultiMarginLossOptions {
  Reduction reduction = Reduction::Mean;
  std::int64_t p = 1;  // 1 or 2
  double margin = 1.0;
  Tensor weight{};  // (C), optional
};
// input: log-probabilities; target: probabilities, or log-probabilities with log_target.
// Pointwise target·(log target − input). Mean averages every element; BatchMean (the
// KL divergence proper) divides the sum by input.size(0).
struct KLDivLossOptions {
  Reduction reduction = Reduction::Mean;
  bool log_target = false;
};

LOOM_API Tensor mse_loss(const Tensor& input, const Tensor& target, const MSELossOptions& options = {});
LOOM_API Tensor l1_loss(const Tensor& input, const Tensor& target, const L1LossOptions& options = {});
LOOM_API Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const SmoothL1LossOptions& options = {});
LOOM_API Tensor huber_loss(const Tensor& input, const Tensor& target, const HuberLossOptions& options = {});
LOOM_API Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const BCELossOptions& options = {});
LOOM_API Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                                 const BCEWithLogitsLossOptions& options = {});
LOOM_API Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyLossOptions& options = {});
LOOM_API Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& options = {});
LOOM_API Tensor multi_margin_loss(const Tensor& input, const Tensor& target,
                                  const MultiMarginLossOptions& options = {});
LOOM_API Tensor kl_div(const Tensor& input, const Tensor& target, const KLDivLossOptions& options = {});

// The same with only a reduction.
inline Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction r) {
  return mse_loss(input, target, MSELossOptions{r});
}
inline Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction r) {
  return l1_loss(input, target, L1LossOptions{r});
}
inline Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction r) {
  return smooth_l1_loss(input, target, SmoothL1LossOptions{.reduction = r});
}
inline Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction r) {
  return huber_loss(input, target, HuberLossOptions{.reduction = r});
}
inline Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, Reduction r) {
  return binary_cross_entropy(input, target, BCELossOptions{.reduction = r});
}
inline Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, Reduction r) {
  return binary_cross_entropy_with_logits(input, target, BCEWithLogitsLossOptions{.reduction = r});
}
inline Tensor cross_entropy(const Tensor& input, const Tensor& target, Reduction r) {
  return cross_entropy(input, target, CrossEntropyLossOptions{.reduction = r});
}
inline Tensor nll_loss(const Tensor& input, const Tensor& target, Reduction r) {
  return nll_loss(input, target, NLLLossOptions{.reduction = r});
}
inline Tensor multi_margin_loss(const Tensor& input, const Tensor& target, Reduction r) {
  return multi_margin_loss(input, target, MultiMarginLossOptions{.reduction = r});
}
inline Tensor kl_div(const Tensor& input, const Tensor& target, Reduction r) {
  return kl_div(input, target, KLDivLossOptions{.reduction = r});
}

}  // namespace loom::nn::functional
