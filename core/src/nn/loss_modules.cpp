// Loss modules (loom/nn/loss.hpp) and their registration by name with JSON configs.
#include "builtin_registration.hpp"
#include "loom/nn/loss.hpp"

#include <nlohmann/json.hpp>

#include "loom/check.hpp"
#include "loom/nn/registry.hpp"

namespace loom::nn {

// ---- Loss --------------------------------------------------------------------------------------
TensorList Loss::forward(const TensorList& xs) {
  LOOM_CHECK(xs.size() == 2, ValueError, "{} takes (prediction, target), found {} tensor{}", type_name(), xs.size(),
             xs.size() == 1 ? "" : "s");
  return {forward(xs[0], xs[1])};
}

Tensor Loss::forward(const Tensor&) {
  LOOM_THROW(ValueError, "{} takes (prediction, target), found one tensor", type_name());
}

std::string Loss::extra_repr() const { return fmt::format("reduction={}", reduction_name(reduction)); }

namespace {

// The module's options with the reduction it currently has (Loss::reduction is the one that
// counts: it may be changed after construction).
template <class Options>
Options with_reduction(Options options, Reduction reduction) {
  options.reduction = reduction;
  return options;
}

// Registers `t` as buffer `name` when defined; returns the handle the module keeps.
Tensor buffer_if_defined(Module& m, const std::string& name, const Tensor& t) {
  return t.defined() ? m.register_buffer(name, t) : Tensor();
}

// Option values are checked when the module is made, not at its first forward.
void check_option(bool ok, const char* loss, const char* what, double found) {
  LOOM_CHECK(ok, ValueError, "{}: expected {}, found {}", loss, what, found);
}
void check_reduction(const char* loss, Reduction reduction) {
  LOOM_CHECK(reduction != Reduction::BatchMean, ValueError,
             "{}: reduction \"batchmean\" is KLDivLoss's; expected \"none\", \"mean\" or \"sum\"", loss);
}

std::string with_weight_repr(std::string repr, const Tensor& weight, const char* name = "weight") {
  if (weight.defined()) repr += fmt::format(", {}={}", name, weight.sizes().str());
  return repr;
}

}  // namespace

#define LOOM_DEFINE_LOSS(Class, function)                                                       \
  Tensor Class::forward(const Tensor& prediction, const Tensor& target) {                       \
    return functional::function(prediction, target, with_reduction(options, reduction));        \
  }

MSELoss::MSELoss(const Options& o) : Loss("MSELoss", o.reduction), options(o) {
  check_reduction("MSELoss", o.reduction);
}
LOOM_DEFINE_LOSS(MSELoss, mse_loss)
std::string MSELoss::extra_repr() const { return Loss::extra_repr(); }

L1Loss::L1Loss(const Options& o) : Loss("L1Loss", o.reduction), options(o) {
  check_reduction("L1Loss", o.reduction);
}
LOOM_DEFINE_LOSS(L1Loss, l1_loss)
std::string L1Loss::extra_repr() const { return Loss::extra_repr(); }

SmoothL1Loss::SmoothL1Loss(const Options& o) : Loss("SmoothL1Loss", o.reduction), options(o) {
  check_reduction("SmoothL1Loss", o.reduction);
  check_option(o.beta >= 0, "SmoothL1Loss", "beta >= 0", o.beta);
}
LOOM_DEFINE_LOSS(SmoothL1Loss, smooth_l1_loss)
std::string SmoothL1Loss::extra_repr() const { return Loss::extra_repr() + fmt::format(", beta={}", options.beta); }

HuberLoss::HuberLoss(const Options& o) : Loss("HuberLoss", o.reduction), options(o) {
  check_reduction("HuberLoss", o.reduction);
  check_option(o.delta > 0, "HuberLoss", "delta > 0", o.delta);
}
LOOM_DEFINE_LOSS(HuberLoss, huber_loss)
std::string HuberLoss::extra_repr() const { return Loss::extra_repr() + fmt::format(", delta={}", options.delta); }

BCELoss::BCELoss(const Options& o) : Loss("BCELoss", o.reduction), options(o) {
  check_reduction("BCELoss", o.reduction);
  options.weight = buffer_if_defined(*this, "weight", o.weight);
}
LOOM_DEFINE_LOSS(BCELoss, binary_cross_entropy)
std::string BCELoss::extra_repr() const { return with_weight_repr(Loss::extra_repr(), options.weight); }

BCEWithLogitsLoss::BCEWithLogitsLoss(const Options& o) : Loss("BCEWithLogitsLoss", o.reduction), options(o) {
  check_reduction("BCEWithLogitsLoss", o.reduction);
  options.weight = buffer_if_defined(*this, "weight", o.weight);
  options.pos_weight = buffer_if_defined(*this, "pos_weight", o.pos_weight);
}
LOOM_DEFINE_LOSS(BCEWithLogitsLoss, binary_cross_entropy_with_logits)
std::string BCEWithLogitsLoss::extra_repr() const {
  return with_weight_repr(with_weight_repr(Loss::extra_repr(), options.weight), options.pos_weight, "pos_weight");
}

CrossEntropyLoss::CrossEntropyLoss(const Options& o) : Loss("CrossEntropyLoss", o.reduction), options(o) {
  check_reduction("CrossEntropyLoss", o.reduction);
  check_option(o.label_smoothing >= 0 && o.label_smoothing <= 1, "CrossEntropyLoss", "label_smoothing in [0, 1]",
               o.label_smoothing);
  options.weight = buffer_if_defined(*this, "weight", o.weight);
}
LOOM_DEFINE_LOSS(CrossEntropyLoss, cross_entropy)
std::string CrossEntropyLoss::extra_repr() const {
  return with_weight_repr(Loss::extra_repr(), options.weight) +
         fmt::format(", ignore_index={}, label_smoothing={}", options.ignore_index, options.label_smoothing);
}

NLLLoss::NLLLoss(const Options& o) : Loss("NLLLoss", o.reduction), options(o) {
  check_reduction("NLLLoss", o.reduction);
  options.weight = buffer_if_defined(*this, "weight", o.weight);
}
LOOM_DEFINE_LOSS(NLLLoss, nll_loss)
std::string NLLLoss::extra_repr() const {
  return with_weight_repr(Loss::extra_repr(), options.weight) + fmt::format(", ignore_index={}", options.ignore_index);
}

MultiMarginLoss::MultiMarginLoss(const Options& o) : Loss("MultiMarginLoss", o.reduction), options(o) {
  check_reduction("MultiMarginLoss", o.reduction);
  check_option(o.p == 1 || o.p == 2, "MultiMarginLoss", "p = 1 or 2", static_cast<double>(o.p));
  options.weight = buffer_if_defined(*this, "weight", o.weight);
}
LOOM_DEFINE_LOSS(MultiMarginLoss, multi_margin_loss)
std::string MultiMarginLoss::extra_repr() const {
  return with_weight_repr(Loss::extra_repr() + fmt::format(", p={}, margin={}", options.p, options.margin),
                          options.weight);
}

KLDivLoss::KLDivLoss(const Options& o) : Loss("KLDivLoss", o.reduction), options(o) {}
LOOM_DEFINE_LOSS(KLDivLoss, kl_div)
std::string KLDivLoss::extra_repr() const {
  return Loss::extra_repr() + fmt::format(", log_target={}", options.log_target);
}

#undef LOOM_DEFINE_LOSS

// ---- registration ------------------------------------------------------------------------------
namespace {

Reduction read_reduction(ConfigReader& r, const std::string& type, bool allow_batchmean = false) {
  std::vector<std::string> allowed{"none", "mean", "sum"};
  if (allow_batchmean) allowed.push_back("batchmean");
  return reduction_from_name(r.text("reduction", "mean", allowed), type, allow_batchmean);
}

// An optional list of numbers (class weights) as a float32 tensor.
Tensor read_weights(ConfigReader& r, const std::string& type, const std::string& key) {
  if (!r.has(key)) return Tensor();
  const nlohmann::json& list = r.raw(key);
  std::vector<float> values;
  LOOM_CHECK(list.is_array() && !list.empty(), ValueError, "{}: option '{}' must be a non-empty list of numbers, found {}",
             type, key, list.dump());
  for (const auto& v : list) {
    LOOM_CHECK(v.is_number(), ValueError, "{}: option '{}' must be a list of numbers, found {}", type, key,
               list.dump());
    values.push_back(v.get<float>());
  }
  return from_vector(values);
}

template <class LossClass, class Read>
void add_loss(const std::string& type, Read read) {
  detail::add_builtin_layer(
      type, [type, read](ConfigReader& r) { return std::make_shared<LossClass>(read(r, type)); }, ModuleKind::Loss);
}

}  // namespace

void detail::register_losses() {
  add_loss<MSELoss>("mse", [](ConfigReader& r, const std::string& t) { return MSELoss::Options{read_reduction(r, t)}; });
  add_loss<L1Loss>("l1", [](ConfigReader& r, const std::string& t) { return L1Loss::Options{read_reduction(r, t)}; });
  add_loss<SmoothL1Loss>("smooth_l1", [](ConfigReader& r, const std::string& t) {
    return SmoothL1Loss::Options{.reduction = read_reduction(r, t), .beta = r.number("beta", 1.0)};
  });
  add_loss<HuberLoss>("huber", [](ConfigReader& r, const std::string& t) {
    return HuberLoss::Options{.reduction = read_reduction(r, t), .delta = r.number("delta", 1.0)};
  });
  add_loss<BCELoss>("bce", [](ConfigReader& r, const std::string& t) {
    return BCELoss::Options{.reduction = read_reduction(r, t), .weight = read_weights(r, t, "weight")};
  });
  add_loss<BCEWithLogitsLoss>("bce_with_logits", [](ConfigReader& r, const std::string& t) {
    return BCEWithLogitsLoss::Options{.reduction = read_reduction(r, t),
                                      .weight = read_weights(r, t, "weight"),
                                      .pos_weight = read_weights(r, t, "pos_weight")};
  });
  add_loss<CrossEntropyLoss>("cross_entropy", [](ConfigReader& r, const std::string& t) {
    return CrossEntropyLoss::Options{.reduction = read_reduction(r, t),
                                     .weight = read_weights(r, t, "weight"),
                                     .ignore_index = r.integer("ignore_index", -100),
                                     .label_smoothing = r.number("label_smoothing", 0.0)};
  });
  add_loss<NLLLoss>("nll", [](ConfigReader& r, const std::string& t) {
    return NLLLoss::Options{.reduction = read_reduction(r, t),
                            .weight = read_weights(r, t, "weight"),
                            .ignore_index = r.integer("ignore_index", -100)};
  });
  add_loss<MultiMarginLoss>("multi_margin", [](ConfigReader& r, const std::string& t) {
    return MultiMarginLoss::Options{.reduction = read_reduction(r, t),
                                    .p = r.integer("p", 1),
                                    .margin = r.number("margin", 1.0),
                                    .weight = read_weights(r, t, "weight")};
  });
  add_loss<KLDivLoss>("kl_div", [](ConfigReader& r, const std::string& t) {
    return KLDivLoss::Options{.reduction = read_reduction(r, t, true), .log_target = r.boolean("log_target", false)};
  });
}

}  // namespace loom::nn
