#pragma once
// Modules that exist only in the layer suites, never registered (the registry walk stays exact):
// they take several inputs of several dtypes and return several outputs, so that the rows'
// multi-tensor path (fixture cases, gradcheck rows) is exercised before a registered layer needs
// it (LSTM's input and (h, c) state, attention's query, key, value and masks).
// make_layer_fixtures.py defines each of them again in PyTorch.
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "loom/check.hpp"
#include "loom/nn/linear.hpp"
#include "loom/nn/module.hpp"
#include "loom/tensor_ops.hpp"

namespace loom_nn_test {

// "test_attention" {"embed_dim": E}: one-head scaled dot-product attention with a query
// projection (q_proj, no bias).
//   inputs:  query (N, L, E), key (N, S, E), value (N, S, E), key_padding_mask (N, S) bool
//            (true: the key is ignored)
//   outputs: attended (N, L, E), weights (N, L, S), the most attended key (N, L) int64
class TestAttention : public loom::nn::Module {
 public:
  explicit TestAttention(std::int64_t embed_dim) : Module("TestAttention") {
    q_proj = register_module("q_proj", std::make_shared<loom::nn::Linear>(embed_dim, embed_dim, false));
  }

  loom::TensorList forward(const loom::TensorList& xs) override {
    LOOM_CHECK(xs.size() == 4, loom::ShapeError,
               "TestAttention: expected 4 inputs (query, key, value, key_padding_mask), found {}", xs.size());
    const loom::Tensor &query = xs[0], &key = xs[1], &value = xs[2], &mask = xs[3];
    // scores: (N, L, S); a masked key gets -inf, so weight 0 after the softmax.
    const loom::Tensor scores =
        loom::matmul((*q_proj)(query), key.transpose(1, 2)) / std::sqrt(static_cast<double>(key.size(2)));
    const loom::Tensor weights = loom::softmax(loom::masked_fill(scores, mask.unsqueeze(1), -INFINITY), -1);
    return {loom::matmul(weights, value), weights, weights.argmax(-1)};
  }

  std::shared_ptr<loom::nn::Linear> q_proj;
};

using HarnessFactory = std::function<std::shared_ptr<loom::nn::Module>(const nlohmann::json& config)>;

// The harness modules by the type name their rows and fixture cases use.
inline const std::map<std::string, HarnessFactory>& harness_modules() {
  static const std::map<std::string, HarnessFactory> modules{
      {"test_attention",
       [](const nlohmann::json& c) { return std::make_shared<TestAttention>(c.at("embed_dim").get<std::int64_t>()); }},
  };
  return modules;
}

}  // namespace loom_nn_test
