#pragma once
// Loss modules: (prediction, target) -> Tensor, reduced by mean unless told otherwise.
//
// ```cpp
// loom::Tensor logits = loom::randn({8, 3}), labels = loom::randint(0, 3, {8});
// loom::nn::CrossEntropyLoss loss({.weight = loom::ones({3}), .label_smoothing = 0.1});
// loom::Tensor l = loss(logits, labels);             // or loss.forward(logits, labels)
// auto mse = loom::nn::build(R"({"type": "mse", "reduction": "sum"})"_json);
// (*mse)({logits, loom::zeros({8, 3})});             // through the Module interface
// ```
//
// Each wraps its function in loom/nn/functional/loss.hpp (the semantics are documented
// there) and uses the same options struct. Class weights are buffers, so to(device) and
// state_dict() carry them. Registered names: "mse", "l1", "smooth_l1", "huber", "bce",
// "bce_with_logits", "cross_entropy", "nll", "multi_margin", "kl_div"; their JSON options
// are the options' field names, with "reduction" a string and weights lists of numbers.
#include <string>

#include "loom/nn/functional/loss.hpp"
#include "loom/nn/module.hpp"

namespace loom::nn {

class LOOM_API Loss : public Module {
 public:
  Loss(std::string type_name, Reduction reduction) : Module(std::move(type_name)), reduction(reduction) {}

  virtual Tensor forward(const Tensor& prediction, const Tensor& target) = 0;
  // Takes exactly {prediction, target}; returns {loss}.
  TensorList forward(const TensorList& xs) override;
  // A loss needs two tensors: always an error naming the loss.
  Tensor forward(const Tensor& x) override;

  using Module::operator();
  Tensor operator()(const Tensor& prediction, const Tensor& target) {
    return Module::operator()(TensorList{prediction, target})[0];
  }
  std::string extra_repr() const override;
  // Losses count no multiply-adds (loom/nn/layer_stats.hpp).
  std::optional<LayerStats> stats(const Shapes&, const Shapes&) const override { return LayerStats{}; }

  Reduction reduction;
};

#define LOOM_LOSS_CLASS_BODY(Class)                                               \
 public:                                                                          \
  using Options = functional::Class##Options;                                     \
  explicit Class(const Options& options = {});                                    \
  using Loss::forward;                                                            \
  Tensor forward(const Tensor& prediction, const Tensor& target) override;        \
  std::string extra_repr() const override;                                        \
  Options options;

class LOOM_API MSELoss : public Loss { LOOM_LOSS_CLASS_BODY(MSELoss) };
class LOOM_API L1Loss : public Loss { LOOM_LOSS_CLASS_BODY(L1Loss) };
class LOOM_API SmoothL1Loss : public Loss { LOOM_LOSS_CLASS_BODY(SmoothL1Loss) };
class LOOM_API HuberLoss : public Loss { LOOM_LOSS_CLASS_BODY(HuberLoss) };
// options.weight is registered as buffer "weight" (when given).
class LOOM_API BCELoss : public Loss { LOOM_LOSS_CLASS_BODY(BCELoss) };
// options.weight and options.pos_weight are buffers "weight" and "pos_weight".
class LOOM_API BCEWithLogitsLoss : public Loss { LOOM_LOSS_CLASS_BODY(BCEWithLogitsLoss) };
class LOOM_API CrossEntropyLoss : public Loss { LOOM_LOSS_CLASS_BODY(CrossEntropyLoss) };
class LOOM_API NLLLoss : public Loss { LOOM_LOSS_CLASS_BODY(NLLLoss) };
class LOOM_API MultiMarginLoss : public Loss { LOOM_LOSS_CLASS_BODY(MultiMarginLoss) };
class LOOM_API KLDivLoss : public Loss { LOOM_LOSS_CLASS_BODY(KLDivLoss) };

#undef LOOM_LOSS_CLASS_BODY

}  // namespace loom::nn
