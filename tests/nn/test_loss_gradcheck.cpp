// Float64 gradcheck of every registered loss with respect to its prediction, under non-default
// options, away from kinks (hinges, |d| = beta, clamps). A registered loss without a row fails.
// Plus gradgradcheck of cross_entropy (class indices with weights, ignore_index and label
// smoothing; probability targets).
#include <functional>
#include <map>

#include "helpers.hpp"
#include "loom/nn/functional/loss.hpp"
#include "loom/nn/registry.hpp"

namespace F = loom::nn::functional;
using loom::nn::Reduction;

namespace {

constexpr loom::DType kF64 = loom::DType::Float64;

loom::Tensor f64(std::initializer_list<std::initializer_list<double>> rows) { return loom::tensor(rows, kF64); }

struct Row {
  loom::Tensor prediction;                               // float64, checked
  std::function<loom::Tensor(const loom::Tensor&)> loss;  // prediction ↦ loss
};

// Predictions and targets are written out so that no element sits within the finite-difference
// step of a kink.
const std::map<std::string, std::vector<Row>>& rows() {
  static const std::map<std::string, std::vector<Row>> table = [] {
    const loom::Tensor x = f64({{0.3, -1.2, 2.0, 0.7}, {1.5, 0.1, -0.4, -2.2}, {-0.9, 0.8, 0.25, 1.1}});
    const loom::Tensor y = f64({{1.0, -0.5, 0.4, 0.1}, {0.2, 0.9, -1.0, -0.6}, {0.3, -0.1, 1.9, 1.0}});
    const loom::Tensor p = f64({{0.2, 0.7, 0.45, 0.9}, {0.05, 0.6, 0.3, 0.8}, {0.55, 0.15, 0.95, 0.35}});
    const loom::Tensor q = f64({{1, 0, 1, 0.3}, {0, 0.5, 1, 1}, {0.9, 0, 0, 1}});
    const loom::Tensor w4 = loom::tensor({0.5, 2.0, 1.25, 0.75}, kF64);
    const loom::Tensor labels = loom::tensor({3, -100, 1});
    const loom::Tensor probs = loom::softmax(y, 1);
    std::map<std::string, std::vector<Row>> t;
    t["mse"] = {{x, [=](const loom::Tensor& a) { return F::mse_loss(a, y, Reduction::None); }}};
    t["l1"] = {{x, [=](const loom::Tensor& a) { return F::l1_loss(a, y, Reduction::Sum); }}};
    t["smooth_l1"] = {{x, [=](const loom::Tensor& a) { return F::smooth_l1_loss(a, y, {Reduction::None, 0.5}); }}};
    t["huber"] = {{x, [=](const loom::Tensor& a) { return F::huber_loss(a, y, {Reduction::None, 0.75}); }}};
    t["bce"] = {{p, [=](const loom::Tensor& a) {
                   return F::binary_cross_entropy(a, q, {Reduction::None, w4});
                 }}};
    t["bce_with_logits"] = {
        {x, [=](const loom::Tensor& a) {
           return F::binary_cross_entropy_with_logits(a, q, {Reduction::None, w4, loom::tensor({2.0, 0.5, 1.0, 3.0}, kF64)});
         }},
        // A logit of exactly 0: the loss is smooth there, and so must be its gradient.
        {loom::zeros({2, 2}, kF64), [=](const loom::Tensor& a) {
           return F::binary_cross_entropy_with_logits(a, f64({{1, 0}, {0.5, 0.2}}), Reduction::Sum);
         }}};
    t["cross_entropy"] = {
        {x, [=](const loom::Tensor& a) {
           return F::cross_entropy(a, labels, {.reduction = Reduction::Mean, .weight = w4, .label_smoothing = 0.2});
         }},
        {x, [=](const loom::Tensor& a) {
           return F::cross_entropy(a, probs, {.reduction = Reduction::None, .weight = w4, .label_smoothing = 0.1});
         }},
        {x.reshape({1, 3, 4}), [=](const loom::Tensor& a) {  // (N, C, d)
           return F::cross_entropy(a, loom::tensor({{0, 2, 1, 1}}), Reduction::None);
         }}};
    t["nll"] = {{x, [=](const loom::Tensor& a) {
                   return F::nll_loss(a, labels, {.reduction = Reduction::Mean, .weight = w4});
                 }}};
    t["multi_margin"] = {
        {x, [=](const loom::Tensor& a) {
           return F::multi_margin_loss(a, loom::tensor({2, 0, 3}), {.reduction = Reduction::None, .weight = w4});
         }},
        {x, [=](const loom::Tensor& a) {
           return F::multi_margin_loss(a, loom::tensor({1, 0, 3}), {.reduction = Reduction::Sum, .p = 2, .margin = 0.9});
         }}};
    t["kl_div"] = {
        {loom::log_softmax(x, 1), [=](const loom::Tensor& a) {
           return F::kl_div(a, probs, Reduction::BatchMean);
         }},
        {loom::log_softmax(x, 1), [=](const loom::Tensor& a) {
           return F::kl_div(a, loom::log_softmax(y, 1), {.reduction = Reduction::None, .log_target = true});
         }}};
    return t;
  }();
  return table;
}

}  // namespace

TEST_CASE("every registered loss has a gradcheck row") {
  const std::vector<std::string> registered = loom::nn::module_types(loom::nn::ModuleKind::Loss);
  REQUIRE_MESSAGE(!registered.empty(), "no loss is registered (is register_losses() called by the registry?)");
  for (const std::string& type : registered) {
    INFO("registered loss '" << type << "'");
    CHECK_MESSAGE(rows().count(type) == 1, "has no row in test_loss_gradcheck.cpp");
  }
  for (const auto& [type, r] : rows()) {
    INFO("row '" << type << "'");
    CHECK(loom::nn::has_module_type(type));
  }
}

TEST_CASE("gradcheck of every loss with respect to its prediction") {
  for (const auto& [type, list] : rows()) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      const Row& row = list[i];
      INFO(type << " row " << i);
      loom::Tensor prediction = row.prediction.detach().clone().requires_grad_();
      auto fn = [&](const loom::TensorList& in) { return loom::TensorList{row.loss(in[0])}; };
      const auto result = loom::autograd::gradcheck(fn, {prediction});
      CHECK_MESSAGE(result.ok, result.report);
    }
  }
}

TEST_CASE("gradgradcheck of cross_entropy") {
  const loom::Tensor w = loom::tensor({0.5, 2.0, 1.25, 0.75}, kF64);
  loom::Tensor x = f64({{0.3, -1.2, 2.0, 0.7}, {1.5, 0.1, -0.4, -2.2}, {-0.9, 0.8, 0.25, 1.1}}).requires_grad_();
  const loom::Tensor labels = loom::tensor({3, -100, 1});
  auto indices = [&](const loom::TensorList& in) {
    return loom::TensorList{F::cross_entropy(in[0], labels, {.weight = w, .label_smoothing = 0.2})};
  };
  auto result = loom::autograd::gradgradcheck(indices, {x});
  CHECK_MESSAGE(result.ok, result.report);
  const loom::Tensor probs = loom::softmax(f64({{1, 0, 2, 0}, {0, 0, 1, 3}, {2, 2, 0, 1}}), 1);
  auto probabilities = [&](const loom::TensorList& in) {
    return loom::TensorList{F::cross_entropy(in[0], probs, {.reduction = Reduction::None, .weight = w})};
  };
  result = loom::autograd::gradgradcheck(probabilities, {x});
  CHECK_MESSAGE(result.ok, result.report);
}
