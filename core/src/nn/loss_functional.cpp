// Losses composed of differentiable core ops (loom/nn/functional/loss.hpp). Each validates
// its arguments first, then builds the per-element loss, then reduces.
#include "loom/nn/functional/loss.hpp"

#include "loom/autograd.hpp"
#include "loom/check.hpp"
#include "loom/nn/functional/activation.hpp"

namespace loom::nn {

const char* reduction_name(Reduction reduction) {
  switch (reduction) {
    case Reduction::None: return "none";
    case Reduction::Mean: return "mean";
    case Reduction::Sum: return "sum";
    case Reduction::BatchMean: return "batchmean";
  }
  return "unknown";
}

Reduction reduction_from_name(std::string_view name, std::string_view loss, bool allow_batchmean) {
  if (name == "mean") return Reduction::Mean;
  if (name == "sum") return Reduction::Sum;
  if (name == "none") return Reduction::None;
  if (name == "batchmean" && allow_batchmean) return Reduction::BatchMean;
  LOOM_THROW(ValueError, "{}: reduction must be one of \"none\", \"mean\", \"sum\"{}, found \"{}\"", loss,
             allow_batchmean ? ", \"batchmean\"" : "", name);
}

}  // namespace loom::nn

namespace loom::nn::functional {

namespace {

void check_floating(std::string_view loss, const char* what, const Tensor& t) {
  LOOM_CHECK(t.is_floating_point(), DTypeError, "{}: expected a floating {}, found dtype {}", loss, what,
             dtype_name(t.dtype()));
}

void check_same_shape(std::string_view loss, const Tensor& input, const Tensor& target) {
  LOOM_CHECK(input.sizes() == target.sizes(), ShapeError,
             "{}: expected target of the input's shape; input {}, target {}", loss, input.sizes().str(),
             target.sizes().str());
}

// The elementwise losses: same shapes, floating input and target.
void check_pointwise(std::string_view loss, const Tensor& input, const Tensor& target) {
  check_floating(loss, "input", input);
  check_floating(loss, "target", target);
  check_same_shape(loss, input, target);
}

// `t` (weight, pos_weight) must broadcast to the input's shape without growing it.
void check_broadcasts_to(std::string_view loss, const char* what, const Tensor& t, const Tensor& input) {
  check_floating(loss, what, t);
  bool fits = t.dim() <= input.dim();
  for (std::int64_t i = 1; fits && i <= t.dim(); ++i) {
    const std::int64_t s = t.size(-i);
    fits = s == 1 || s == input.size(-i);
  }
  LOOM_CHECK(fits, ShapeError, "{}: {} of shape {} does not broadcast to the input's shape {}", loss, what,
             t.sizes().str(), input.sizes().str());
}

void check_class_weight(std::string_view loss, const Tensor& weight, std::int64_t classes) {
  if (!weight.defined()) return;
  check_floating(loss, "weight", weight);
  LOOM_CHECK(weight.dim() == 1 && weight.size(0) == classes, ShapeError,
             "{}: expected a class weight of shape ({}), found {}", loss, classes, weight.sizes().str());
}

// Every class index in [0, classes), except entries equal to ignore_index (when given).
void check_class_indices(std::string_view loss, const Tensor& target, std::int64_t classes,
                         const std::int64_t* ignore_index) {
  LOOM_CHECK(target.dtype() == DType::Int64, DTypeError, "{}: expected int64 class indices as target, found {}",
             loss, dtype_name(target.dtype()));
  if (target.numel() == 0) return;
  const Tensor kept = ignore_index ? where(ne(target, *ignore_index), target, Scalar(0)) : target;
  const std::int64_t lo = min(kept).item<std::int64_t>();
  const std::int64_t hi = max(kept).item<std::int64_t>();
  const std::int64_t bad = lo < 0 ? lo : hi;
  LOOM_CHECK(lo >= 0 && hi < classes, IndexError,
             "{}: target class index {} is out of range for {} classes (expected 0 <= index < {}{})", loss, bad,
             classes, classes,
             ignore_index ? fmt::format(", or ignore_index {}", *ignore_index) : std::string());
}

void check_not_batchmean(std::string_view loss, Reduction reduction) {
  LOOM_CHECK(reduction != Reduction::BatchMean, ValueError,
             "{}: reduction \"batchmean\" is kl_div's; expected \"none\", \"mean\" or \"sum\"", loss);
}

Tensor reduce(std::string_view loss, const Tensor& per_element, Reduction reduction) {
  check_not_batchmean(loss, reduction);
  switch (reduction) {
    case Reduction::Mean: return mean(per_element);
    case Reduction::Sum: return sum(per_element);
    default: return per_element;
  }
}

// log(x) clamped at −100 as PyTorch's BCE, with a finite gradient at x = 0.
Tensor clamped_log(const Tensor& x) {
  const Tensor positive = gt(x, 0);
  return clamp_min(where(positive, log(where(positive, x, Scalar(1.0))), Scalar(-100.0)), -100.0);
}

// Class weights shaped to broadcast along dim 1 of a (N, C, d1, ...) tensor.
Tensor class_dim_view(const Tensor& weight, std::int64_t rank) {
  Shape shape;
  for (std::int64_t i = 0; i < rank; ++i) shape.push_back(i == 1 ? weight.size(0) : 1);
  return weight.view(shape);
}

// log_probs (N, C, d1, ...), target (N, d1, ...) validated. The weighted mean divides by the
// weights of the targets that are not ignored.
Tensor nll_validated(const Tensor& log_probs, const Tensor& target, const Tensor& weight, std::int64_t ignore_index,
                     double label_smoothing, Reduction reduction) {
  const Tensor kept = ne(target, ignore_index);              // (N, d1, ...)
  const Tensor safe_target = where(kept, target, Scalar(0));
  const Tensor picked = gather(log_probs, 1, safe_target.unsqueeze(1)).squeeze(1);
  const Tensor target_weight =
      weight.defined()
          ? where(kept, index_select(weight, 0, safe_target.flatten()).reshape(target.sizes()), Scalar(0.0))
          : kept.to(log_probs.dtype());
  const Tensor nll = -(picked * target_weight);
  Tensor result;
  switch (reduction) {
    case Reduction::Mean: result = sum(nll) / sum(target_weight); break;
    case Reduction::Sum: result = sum(nll); break;
    default: result = nll; break;
  }
  if (label_smoothing == 0.0) return result;

  // Label smoothing: the uniform part, −Σ_c w_c·log p_c per element (PyTorch 1.13).
  const Tensor weighted = weight.defined() ? log_probs * class_dim_view(weight, log_probs.dim()) : log_probs;
  const Tensor smooth = where(kept, -sum(weighted, {1}), Scalar(0.0));
  Tensor smooth_reduced;
  switch (reduction) {
    case Reduction::Mean:
      smooth_reduced = sum(smooth) / (weight.defined() ? sum(target_weight) : sum(kept.to(log_probs.dtype())));
      break;
    case Reduction::Sum: smooth_reduced = sum(smooth); break;
    default: smooth_reduced = smooth; break;
  }
  const double classes = static_cast<double>(log_probs.size(1));
  return (1.0 - label_smoothing) * result + smooth_reduced * (label_smoothing / classes);
}

// The shapes shared by nll_loss and cross_entropy with class indices: input (N, C, d1, ...),
// target (N, d1, ...).
void check_class_target_shape(std::string_view loss, const Tensor& input, const Tensor& target) {
  Shape expected;
  for (std::int64_t i = 0; i < input.dim(); ++i)
    if (i != 1) expected.push_back(input.size(i));
  LOOM_CHECK(target.sizes() == expected, ShapeError,
             "{}: expected class-index target of shape {} for input {}, found {}", loss, expected.str(),
             input.sizes().str(), target.sizes().str());
}

// Runs `loss` on a batch of one when the input has no batch dim (C), as PyTorch accepts.
template <class Fn>
Tensor unbatched(const Tensor& input, const Tensor& target, Reduction reduction, Fn&& loss) {
  Tensor out = loss(input.unsqueeze(0), target.unsqueeze(0));
  return reduction == Reduction::None ? out.squeeze(0) : out;
}

Tensor cross_entropy_probabilities(const Tensor& log_probs, const Tensor& target, const Tensor& weight,
                                   double label_smoothing, Reduction reduction) {
  const double classes = static_cast<double>(log_probs.size(1));
  const Tensor smoothed = label_smoothing > 0 ? target * (1.0 - label_smoothing) + label_smoothing / classes : target;
  Tensor product = log_probs * smoothed;
  if (weight.defined()) product = product * class_dim_view(weight, log_probs.dim());
  switch (reduction) {
    case Reduction::Mean:  // over samples (N·d1·...), not over weights
      return -sum(product) / (static_cast<double>(log_probs.numel()) / classes);
    case Reduction::Sum: return -sum(product);
    default: return -sum(product, {1});
  }
}

}  // namespace

Tensor mse_loss(const Tensor& input, const Tensor& target, const MSELossOptions& options) {
  check_pointwise("mse_loss", input, target);
  check_not_batchmean("mse_loss", options.reduction);
  const Tensor d = input - target;
  return reduce("mse_loss", d * d, options.reduction);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, const L1LossOptions& options) {
  check_pointwise("l1_loss", input, target);
  check_not_batchmean("l1_loss", options.reduction);
  return reduce("l1_loss", abs(input - target), options.reduction);
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const SmoothL1LossOptions& options) {
  check_pointwise("smooth_l1_loss", input, target);
  check_not_batchmean("smooth_l1_loss", options.reduction);
  LOOM_CHECK(options.beta >= 0, ValueError, "smooth_l1_loss: expected beta >= 0, found {}", options.beta);
  const Tensor d = abs(input - target);
  if (options.beta == 0) return reduce("smooth_l1_loss", d, options.reduction);
  const Tensor quadratic = where(ge(d, options.beta), 0.0, d);  // see huber_loss
  const Tensor loss = where(lt(d, options.beta), 0.5 * quadratic * quadratic / options.beta, d - 0.5 * options.beta);
  return reduce("smooth_l1_loss", loss, options.reduction);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, const HuberLossOptions& options) {
  check_pointwise("huber_loss", input, target);
  check_not_batchmean("huber_loss", options.reduction);
  LOOM_CHECK(options.delta > 0, ValueError, "huber_loss: expected delta > 0, found {}", options.delta);
  const Tensor d = abs(input - target);
  // The quadratic branch sees only the d it is used for (and NaN): at d = ∞ its unused gradient
  // would be 0 · ∞ = NaN through where(), where PyTorch's is ±delta; at NaN PyTorch's is NaN.
  const Tensor quadratic = where(ge(d, options.delta), 0.0, d);
  const Tensor loss = where(lt(d, options.delta), 0.5 * quadratic * quadratic, options.delta * (d - 0.5 * options.delta));
  return reduce("huber_loss", loss, options.reduction);
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const BCELossOptions& options) {
  constexpr std::string_view name = "binary_cross_entropy";
  check_pointwise(name, input, target);
  check_not_batchmean(name, options.reduction);
  if (options.weight.defined()) check_broadcasts_to(name, "weight", options.weight, input);
  if (input.numel() > 0) {
    const double lo = min(input).item<double>(), hi = max(input).item<double>();
    LOOM_CHECK(lo >= 0 && hi <= 1, ValueError,
               "{}: expected probabilities in [0, 1] as input, found values in [{}, {}] (for logits use "
               "binary_cross_entropy_with_logits)", name, lo, hi);
  }
  Tensor loss = -(target * clamped_log(input) + (1.0 - target) * clamped_log(1.0 - input));
  if (options.weight.defined()) loss = loss * options.weight;
  return reduce(name, loss, options.reduction);
}

namespace {
// log(1 + e^−x) = logsumexp(0, −x): stable for any x, and smooth at 0 (max(x, 0) is not). Its
// gradient −σ(−x) is written out: logsumexp's is NaN at x = −∞ (e^(∞ − ∞)), PyTorch's is −1.
Tensor softplus_of_negative(const Tensor& x) {
  Tensor out;
  {
    NoGradGuard no_grad;
    out = logsumexp(stack({zeros_like(x), -x}, -1), {-1});
  }
  autograd::SavedTensor sx(x, false);
  return autograd::record_function("softplus", {x}, out, [sx](const TensorList& g) {
    return TensorList{-g[0] * sigmoid(-sx.unpack("softplus"))};
  });
}
}  // namespace

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BCEWithLogitsLossOptions& options) {
  constexpr std::string_view name = "binary_cross_entropy_with_logits";
  check_pointwise(name, input, target);
  check_not_batchmean(name, options.reduction);
  if (options.weight.defined()) check_broadcasts_to(name, "weight", options.weight, input);
  if (options.pos_weight.defined()) check_broadcasts_to(name, "pos_weight", options.pos_weight, input);
  const Tensor softplus_neg = softplus_of_negative(input);
  const Tensor log_weight = options.pos_weight.defined() ? 1.0 + (options.pos_weight - 1.0) * target : Tensor();
  Tensor loss = (1.0 - target) * input + (log_weight.defined() ? log_weight * softplus_neg : softplus_neg);
  if (options.weight.defined()) loss = loss * options.weight;
  return reduce(name, loss, options.reduction);
}

Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& options) {
  constexpr std::string_view name = "nll_loss";
  check_floating(name, "input of log-probabilities", input);
  check_not_batchmean(name, options.reduction);
  LOOM_CHECK(input.dim() >= 1, ShapeError, "nll_loss: expected input (N, C, ...) or (C), found {}",
             input.sizes().str());
  if (input.dim() == 1) {
    LOOM_CHECK(target.dim() == 0, ShapeError, "nll_loss: input (C) of shape {} takes a 0-dim target, found {}",
               input.sizes().str(), target.sizes().str());
    return unbatched(input, target, options.reduction,
                     [&](const Tensor& x, const Tensor& t) { return nll_loss(x, t, options); });
  }
  check_class_target_shape(name, input, target);
  check_class_weight(name, options.weight, input.size(1));
  check_class_indices(name, target, input.size(1), &options.ignore_index);
  const Tensor weight = options.weight.defined() ? options.weight.to(input.dtype()) : Tensor();
  return nll_validated(input, target, weight, options.ignore_index, 0.0, options.reduction);
}

Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyLossOptions& options) {
  constexpr std::string_view name = "cross_entropy";
  check_floating(name, "input of logits", input);
  check_not_batchmean(name, options.reduction);
  LOOM_CHECK(input.dim() >= 1, ShapeError, "cross_entropy: expected input (N, C, ...) or (C), found {}",
             input.sizes().str());
  LOOM_CHECK(options.label_smoothing >= 0 && options.label_smoothing <= 1, ValueError,
             "cross_entropy: expected label_smoothing in [0, 1], found {}", options.label_smoothing);
  const bool probabilities = target.is_floating_point();
  LOOM_CHECK(probabilities || target.dtype() == DType::Int64, DTypeError,
             "cross_entropy: expected int64 class indices or floating class probabilities as target, found {}",
             dtype_name(target.dtype()));
  if (input.dim() == 1) {
    LOOM_CHECK(probabilities ? target.dim() == 1 : target.dim() == 0, ShapeError,
               "cross_entropy: input (C) of shape {} takes a 0-dim class index or (C) probabilities, found {}",
               input.sizes().str(), target.sizes().str());
    return unbatched(input, target, options.reduction,
                     [&](const Tensor& x, const Tensor& t) { return cross_entropy(x, t, options); });
  }
  const std::int64_t classes = input.size(1);
  check_class_weight(name, options.weight, classes);
  const Tensor weight = options.weight.defined() ? options.weight.to(input.dtype()) : Tensor();
  if (probabilities) {
    LOOM_CHECK(target.sizes() == input.sizes(), ShapeError,
               "cross_entropy: expected probability target of the input's shape; input {}, target {}",
               input.sizes().str(), target.sizes().str());
    return cross_entropy_probabilities(log_softmax(input, 1), target, weight, options.label_smoothing,
                                       options.reduction);
  }
  check_class_target_shape(name, input, target);
  check_class_indices(name, target, classes, &options.ignore_index);
  return nll_validated(log_softmax(input, 1), target, weight, options.ignore_index, options.label_smoothing,
                       options.reduction);
}

Tensor multi_margin_loss(const Tensor& input, const Tensor& target, const MultiMarginLossOptions& options) {
  constexpr std::string_view name = "multi_margin_loss";
  check_floating(name, "input of scores", input);
  check_not_batchmean(name, options.reduction);
  LOOM_CHECK(options.p == 1 || options.p == 2, ValueError, "multi_margin_loss: expected p = 1 or 2, found {}",
             options.p);
  LOOM_CHECK(input.dim() == 1 || input.dim() == 2, ShapeError,
             "multi_margin_loss: expected input (N, C) or (C), found {}", input.sizes().str());
  if (input.dim() == 1) {
    LOOM_CHECK(target.dim() == 0, ShapeError,
               "multi_margin_loss: input (C) of shape {} takes a 0-dim target, found {}", input.sizes().str(),
               target.sizes().str());
    return unbatched(input, target, options.reduction,
                     [&](const Tensor& x, const Tensor& t) { return multi_margin_loss(x, t, options); });
  }
  const std::int64_t classes = input.size(1);
  LOOM_CHECK(target.dim() == 1 && target.size(0) == input.size(0), ShapeError,
             "multi_margin_loss: expected target of shape ({}) for input {}, found {}", input.size(0),
             input.sizes().str(), target.sizes().str());
  check_class_weight(name, options.weight, classes);
  check_class_indices(name, target, classes, nullptr);
  // x: (N, C); y: (N, 1)
  const Tensor y = target.unsqueeze(1);
  // relu, not clamp_min: PyTorch counts a margin only when it is > 0 (gradient 0 at exactly 0),
  // and relu keeps a NaN score NaN (PyTorch's kernel skips it: a departure, tests/nn/test_nonfinite.cpp).
  Tensor margins = relu(options.margin - gather(input, 1, y) + input);
  if (options.p == 2) margins = margins * margins;
  const Tensor is_target = eq(arange(0, classes, 1, TensorOptions(DType::Int64, input.device())), y);
  Tensor per_sample = sum(where(is_target, Scalar(0.0), margins), {1}) / static_cast<double>(classes);
  if (options.weight.defined()) per_sample = per_sample * index_select(options.weight.to(input.dtype()), 0, target);
  return reduce(name, per_sample, options.reduction);
}

Tensor kl_div(const Tensor& input, const Tensor& target, const KLDivLossOptions& options) {
  check_pointwise("kl_div", input, target);
  Tensor loss;
  if (options.log_target) {
    loss = exp(target) * (target - input);
  } else {
    // target·log(target) with 0 at target = 0 (and a finite gradient there).
    const Tensor zero = eq(target, 0);
    loss = where(zero, Scalar(0.0), target * log(where(zero, Scalar(1.0), target))) - target * input;
  }
  if (options.reduction == Reduction::BatchMean)
    return sum(loss) / static_cast<double>(input.dim() == 0 ? 1 : input.size(0));
  return reduce("kl_div", loss, options.reduction);
}

}  // namespace loom::nn::functional
