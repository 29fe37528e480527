// Float64 gradcheck of every registered layer with respect to its inputs and its parameters
// (registry walk: a registered layer without a row fails). Each row builds the layer from JSON,
// converts it with to(Float64) and passes the module's own parameter tensors to gradcheck as
// inputs, so the finite differences perturb exactly what forward() reads. Inputs stay away from
// kinks (0 for the ReLU family); stochastic layers re-seed before every evaluation, so each
// evaluation draws the same mask and the check covers the training-mode gradient.
//
// A row: {JSON config, inputs, train = false, warm_up = none}, under the layer's registry type.
//   inputs  x(shape, seed): one float64 tensor, the one-tensor forward m(x);
//           a lambda returning a Tensor: one tensor of any dtype (int64 indices), m(x);
//           inputs({x(...), x(...), mask}): several tensors, the multi-tensor forward
//           m(TensorList{...}), e.g. an LSTM's input and state:
//             t["lstm"] = {{R"({...})", inputs({x({5, 3, 4}, 1), x({1, 3, 8}, 2), x({1, 3, 8}, 3)})}};
//   Floating inputs are checked; int64 and bool ones (indices, masks) are passed through, and so
//   is an undefined one (a mask slot left empty, as the Transformer rows' "none"). Every
//   floating output is checked; others (argmax indices) must not depend on the checked inputs.
// Rows may also name a test-only harness module (harness_modules.hpp), which proves the
// multi-tensor path before a registered layer needs it.
#include <functional>
#include <map>
#include <set>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "helpers.hpp"
#include "layer_rows.hpp"
#include "loom/autograd.hpp"
#include "loom/nn/module.hpp"
#include "loom/nn/registry.hpp"
#include "loom/random.hpp"
#include "loom/tensor_ops.hpp"

namespace {

constexpr loom::DType kF64 = loom::DType::Float64;

// N(0, 1) values with |x| ≥ 0.2: no element within the finite-difference step of 0.
loom::Tensor away_from_zero(const loom::Shape& shape, std::uint64_t seed) {
  loom::manual_seed(seed);
  std::vector<double> v = loom::randn(shape, kF64).to_vector<double>();
  for (double& x : v)
    if (std::abs(x) < 0.2) x += x >= 0 ? 0.3 : -0.3;
  return loom::from_vector(v, shape);
}

// What a row feeds its layer, made afresh for each use, and which forward it calls.
struct Inputs {
  std::function<loom::TensorList()> make;
  bool several = false;  // true: the multi-tensor forward (see loom_nn_test::forward_of)

  Inputs() = default;
  template <class F>
    requires std::is_invocable_r_v<loom::Tensor, F>
  Inputs(F one) : make([one] { return loom::TensorList{one()}; }) {}
  explicit operator bool() const { return static_cast<bool>(make); }
};

// Several inputs in forward order, for the multi-tensor forward.
Inputs inputs(std::vector<std::function<loom::Tensor()>> parts) {
  Inputs in;
  in.make = [parts] {
    loom::TensorList xs;
    for (const auto& part : parts) xs.push_back(part());
    return xs;
  };
  in.several = true;
  return in;
}

struct Row {
  const char* config;
  Inputs input;
  bool train = false;  // true: training mode (stochastic layers re-seed before each evaluation)
  // If set: forwards of this batch in training mode before the check, so that an eval-mode row of
  // a layer with running statistics normalises with non-default ones (in training mode, batch and
  // instance norm's weight gets a zero gradient under sum(), so their affine rows are eval rows).
  Inputs warm_up = {};
};

const std::map<std::string, std::vector<Row>>& rows() {
  static const std::map<std::string, std::vector<Row>> table = [] {
    std::map<std::string, std::vector<Row>> t;
    auto x = [](loom::Shape shape, std::uint64_t seed) { return [=] { return away_from_zero(shape, seed); }; };
    t["linear"] = {{R"({"in_features": 3, "out_features": 2})", x({4, 3}, 1)},
                   {R"({"in_features": 3, "out_features": 2, "bias": false})", x({2, 3, 3}, 2)}};
    t["identity"] = {{"{}", x({3, 2}, 3)}};
    t["flatten"] = {{R"({"start_dim": 1, "end_dim": 2})", x({2, 2, 3, 2}, 4)}};
    t["relu"] = {{"{}", x({3, 4}, 5)}};
    t["sigmoid"] = {{"{}", x({3, 4}, 6)}};
    t["tanh"] = {{"{}", x({3, 4}, 7)}};
    t["silu"] = {{"{}", x({3, 4}, 8)}};
    t["leaky_relu"] = {{R"({"negative_slope": 0.2})", x({3, 4}, 9)}};
    t["elu"] = {{R"({"alpha": 1.3})", x({3, 4}, 10)}};
    t["gelu"] = {{"{}", x({3, 4}, 11)}, {R"({"approximate": "tanh"})", x({3, 4}, 12)}};
    t["prelu"] = {{"{}", x({3, 4}, 13)}, {R"({"num_parameters": 3, "init": 0.3})", x({2, 3, 2}, 14)}};
    t["softmax"] = {{R"({"dim": 0})", x({3, 4}, 15)}, {"{}", x({2, 3, 2}, 16)}};
    t["log_softmax"] = {{R"({"dim": 1})", x({3, 4}, 17)}};
    t["maxout"] = {{R"({"in_features": 3, "out_features": 2, "pieces": 3})", x({4, 3}, 18)}};
    t["dropout"] = {{R"({"p": 0.4})", x({3, 4}, 19), true}, {R"({"p": 0.4})", x({3, 4}, 20)}};
    t["dropout2d"] = {{R"({"p": 0.5})", x({2, 3, 2, 2}, 21), true}};
    t["embedding"] = {{R"({"num_embeddings": 5, "embedding_dim": 3, "padding_idx": 2})",
                       [] { return loom::tensor({{0, 2, 4}, {4, 1, 2}}); }}};
    // Stats-setting batches: shifted and scaled, so the running mean and variance move away from 0 and 1.
    auto w = [](loom::Shape shape, std::uint64_t seed) {
      return [=] { return away_from_zero(shape, seed) * 1.7 + 0.6; };
    };
    t["conv1d"] = {{R"({"in_channels": 4, "out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1,
                       "dilation": 2, "groups": 2})",
                    x({2, 4, 7}, 40)},
                   {R"({"in_channels": 2, "out_channels": 3, "kernel_size": 3, "padding": "same", "bias": false})",
                    x({1, 2, 5}, 41)}};
    t["conv2d"] = {{R"({"in_channels": 2, "out_channels": 4, "kernel_size": [3, 2], "stride": [2, 1],
                       "padding": [1, 1], "dilation": [1, 2], "groups": 2})",
                    x({1, 2, 5, 5}, 42)},
                   {R"({"in_channels": 2, "out_channels": 2, "kernel_size": 3, "padding": "same"})", x({1, 2, 3, 4}, 43)}};
    t["conv_transpose2d"] = {{R"({"in_channels": 2, "out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1,
                                 "output_padding": 1, "groups": 2})",
                              x({1, 2, 3, 3}, 44)},
                             {R"({"in_channels": 2, "out_channels": 1, "kernel_size": [2, 3], "stride": [1, 2],
                                 "dilation": [2, 1], "bias": false})",
                              x({1, 2, 2, 3}, 45)}};
    t["max_pool2d"] = {{R"({"kernel_size": 3, "stride": 2, "padding": 1})", x({1, 2, 5, 5}, 46)},
                       {R"({"kernel_size": [2, 3], "stride": [1, 2], "padding": [1, 1]})", x({1, 1, 4, 5}, 47)},
                       {R"({"kernel_size": 3, "stride": 2, "ceil_mode": true})", x({1, 2, 6, 5}, 66)}};
    t["avg_pool2d"] = {{R"({"kernel_size": 3, "stride": 2, "padding": 1})", x({1, 2, 5, 5}, 48)},
                       {R"({"kernel_size": [2, 3], "stride": [2, 1], "padding": [1, 1], "count_include_pad": false})",
                        x({1, 2, 4, 4}, 49)},
                       {R"({"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": true})", x({1, 2, 6, 4}, 67)},
                       {R"({"kernel_size": 2, "ceil_mode": true, "count_include_pad": false})", x({1, 1, 5, 3}, 68)}};
    t["batch_norm1d"] = {{R"({"num_features": 3, "eps": 0.001, "momentum": 0.5})", x({4, 3}, 50), false,
                          w({6, 3}, 51)},
                         {R"({"num_features": 3, "affine": false})", x({4, 3, 2}, 52), true}};
    t["batch_norm2d"] = {{R"({"num_features": 2, "momentum": null})", x({2, 2, 2, 3}, 53), false,
                          w({3, 2, 2, 2}, 54)},
                         {R"({"num_features": 2, "affine": false})", x({3, 2, 2, 2}, 55), true}};
    t["layer_norm"] = {{R"({"normalized_shape": [2, 3], "eps": 0.001})", x({2, 2, 3}, 56)},
                       {R"({"normalized_shape": 4, "elementwise_affine": false})", x({3, 4}, 57)}};
    t["group_norm"] = {{R"({"num_groups": 2, "num_channels": 4})", x({2, 4, 2, 2}, 58)}};
    t["instance_norm2d"] = {{R"({"num_features": 2, "affine": true, "track_running_stats": true, "momentum": 0.5})",
                             x({2, 2, 2, 3}, 59), false, w({3, 2, 3, 3}, 60)},
                            {R"({"num_features": 2})", x({2, 2, 3, 3}, 61), true}};
    t["upsample"] = {{R"({"size": [3, 5], "mode": "bilinear"})", x({1, 2, 2, 3}, 62)},
                     {R"({"scale_factor": 0.6, "mode": "bilinear", "align_corners": true})", x({1, 1, 5, 4}, 63)},
                     {R"({"scale_factor": 2})", x({1, 2, 2, 2}, 64)}};
    t["adaptive_avg_pool2d"] = {{R"({"output_size": [2, 3]})", x({1, 2, 5, 4}, 65)},
                                {R"({"output_size": [2, 2]})", x({1, 2, 4, 6}, 66)}};  // sizes that divide
    t["sequential"] = {{R"({"layers": [{"type": "linear", "in_features": 3, "out_features": 4}, {"type": "tanh"},
                                      {"type": "prelu", "num_parameters": 4},
                                      {"type": "linear", "in_features": 4, "out_features": 2},
                                      {"type": "log_softmax", "dim": 1}]})",
                        x({3, 3}, 22)},
                       {R"({"layers": [{"type": "linear", "in_features": 3, "out_features": 2}, {"type": "tanh"}]})",
                        inputs({x({4, 3}, 23)})}};  // Sequential's multi-tensor forward
    // ---- recurrent layers: states and lengths (int64, unsorted) through the multi-tensor forward ----
    auto lengths = [](std::vector<std::int64_t> v) {
      return [v] { return loom::from_vector(v, {static_cast<std::int64_t>(v.size())}); };
    };
    t["rnn"] = {{R"({"input_size": 2, "hidden_size": 3, "num_layers": 2, "bidirectional": true})",
                 inputs({x({3, 2, 2}, 80), x({4, 2, 3}, 81)})},
                {R"({"input_size": 2, "hidden_size": 2, "nonlinearity": "relu", "batch_first": true})",
                 inputs({x({3, 4, 2}, 82), lengths({4, 1, 3})})}};
    t["lstm"] = {{R"({"input_size": 2, "hidden_size": 3, "proj_size": 2, "num_layers": 2})",
                  inputs({x({3, 2, 2}, 83), x({2, 2, 2}, 84), x({2, 2, 3}, 85)})},
                 {R"({"input_size": 2, "hidden_size": 2, "bidirectional": true})",
                  inputs({x({4, 3, 2}, 86), x({2, 3, 2}, 87), x({2, 3, 2}, 88), lengths({2, 4, 3})})},
                 {R"({"input_size": 2, "hidden_size": 2, "num_layers": 2, "dropout": 0.5})", x({3, 2, 2}, 89), true}};
    t["gru"] = {{R"({"input_size": 2, "hidden_size": 2, "bidirectional": true, "batch_first": true})",
                 inputs({x({3, 4, 2}, 90), lengths({3, 4, 1})})},
                {R"({"input_size": 3, "hidden_size": 2, "num_layers": 2})", inputs({x({3, 2, 3}, 91), x({2, 2, 2}, 92)})}};
    t["rnn_cell"] = {{R"({"input_size": 3, "hidden_size": 2})", inputs({x({2, 3}, 93), x({2, 2}, 94)})}};
    t["lstm_cell"] = {{R"({"input_size": 3, "hidden_size": 2})", inputs({x({2, 3}, 95), x({2, 2}, 96), x({2, 2}, 97)})}};
    t["gru_cell"] = {{R"({"input_size": 3, "hidden_size": 2})", inputs({x({2, 3}, 98), x({2, 2}, 99)})}};
    // ---- end of recurrent layers ----
    // The harness module: three floating inputs and a bool mask; two floating outputs and an int64 one.
    auto key_padding_mask = [] {
      return loom::tensor({{false, true, false, false, true}, {false, false, false, true, false}});
    };
    t["test_attention"] = {{R"({"embed_dim": 4})",
                            inputs({x({2, 3, 4}, 70), x({2, 5, 4}, 71), x({2, 5, 4}, 72), key_padding_mask})}};
    // ---- attention and Transformer layers (branch attn) ----
    // Masks in MultiheadAttention's polarity (true: masked out); a floating mask is checked too.
    auto none = [] { return loom::Tensor(); };
    auto padding = [] { return loom::tensor({{false, false, true, false}, {false, true, false, false}}); };
    auto causal3 = [] { return loom::tensor({{false, true, true}, {false, false, true}, {false, false, false}}); };
    t["multihead_attention"] = {
        {R"({"embed_dim": 4, "num_heads": 2})",
         inputs({x({3, 2, 4}, 80), x({4, 2, 4}, 81), x({4, 2, 4}, 82), [] {
                   return loom::tensor({{false, false, false, true}, {true, false, false, false}});
                 }, x({3, 4}, 83)})},
        {R"({"embed_dim": 4, "num_heads": 1, "kdim": 3, "vdim": 2, "add_bias_kv": true, "add_zero_attn": true,
            "batch_first": true})",
         inputs({x({2, 3, 4}, 84), x({2, 4, 3}, 85), x({2, 4, 2}, 86), padding})},
        {R"({"embed_dim": 4, "num_heads": 2, "dropout": 0.3, "batch_first": true})", x({2, 3, 4}, 87), true}};
    const char* layer = R"({"d_model": 4, "nhead": 2, "dim_feedforward": 5, "dropout": 0.0})";
    const char* pre_norm_gelu = R"({"d_model": 4, "nhead": 2, "dim_feedforward": 5, "norm_first": true,
                                    "activation": "gelu", "batch_first": true})";
    t["transformer_encoder_layer"] = {{layer, inputs({x({4, 2, 4}, 88), none, padding})},
                                      {pre_norm_gelu, x({2, 3, 4}, 89)}};
    t["transformer_decoder_layer"] = {{layer, inputs({x({3, 2, 4}, 90), x({4, 2, 4}, 91), causal3, none, none,
                                                      padding})},
                                      {pre_norm_gelu, inputs({x({2, 3, 4}, 92), x({2, 4, 4}, 93), x({3, 3}, 94)})}};
    t["transformer_encoder"] = {{R"({"d_model": 4, "nhead": 2, "dim_feedforward": 5, "num_layers": 2, "norm": true})",
                                 x({3, 2, 4}, 95)}};
    t["transformer_decoder"] = {{R"({"d_model": 4, "nhead": 2, "dim_feedforward": 5, "num_layers": 2, "norm": true,
                                    "batch_first": true})",
                                 inputs({x({2, 3, 4}, 96), x({2, 4, 4}, 97), causal3})}};
    t["transformer"] = {{R"({"d_model": 4, "nhead": 2, "num_encoder_layers": 1, "num_decoder_layers": 1,
                            "dim_feedforward": 5})",
                         inputs({x({4, 2, 4}, 98), x({3, 2, 4}, 99), none, causal3, none, [] {
                                   return loom::tensor({{false, false, false, true}, {false, false, false, false}});
                                 }})}};
    t["sinusoidal_positional_encoding"] = {{R"({"d_model": 5, "batch_first": true})", x({2, 3, 5}, 100)}};
    t["learned_positional_embedding"] = {{R"({"d_model": 3, "max_len": 6})", x({4, 2, 3}, 101)}};
    return t;
  }();
  return table;
}

// gradcheck of `m` (already float64) with respect to its floating inputs and every parameter.
loom::autograd::GradcheckResult check_layer(loom::nn::Module& m, const loom::TensorList& xs, bool several,
                                            bool reseed) {
  // An undefined input (a mask left out: "none") stays out of the check and is put back in its
  // place for each call.
  loom::TensorList inputs;
  std::vector<bool> present;
  for (loom::Tensor x : xs) {
    present.push_back(x.defined());
    if (!x.defined()) continue;
    if (x.is_floating_point()) x.requires_grad_(true);
    inputs.push_back(x);
  }
  for (const loom::Tensor& p : m.parameters()) inputs.push_back(p);
  auto fn = [&m, present, several, reseed](const loom::TensorList& in) -> loom::TensorList {
    if (reseed) loom::manual_seed(777);
    loom::TensorList call;
    std::size_t next = 0;
    for (const bool p : present) call.push_back(p ? in[next++] : loom::Tensor());
    return loom_nn_test::forward_of(m, call, several);
  };
  return loom::autograd::gradcheck(fn, inputs);
}

// Σ over the floating outputs of sum(output · r), r a fixed random weight: a plain sum would give
// no gradient through outputs whose sum is constant (softmax, attention weights).
loom::Tensor random_projection(const loom::TensorList& outputs) {
  loom::manual_seed(99);
  loom::Tensor total = loom::zeros({}, kF64);
  for (const loom::Tensor& out : outputs)
    if (out.is_floating_point()) total = total + (out * loom::randn(out.sizes(), kF64)).sum();
  return total;
}

// A layer with a deliberately wrong gradient: forward x·w, backward twice the true one.
struct WrongGradient : loom::nn::Module {
  loom::Tensor w;
  WrongGradient() : Module("WrongGradient") { w = register_parameter("w", loom::full({3}, 0.7, kF64)); }
  loom::Tensor forward(const loom::Tensor& x) override {
    loom::Tensor y = x * w;
    y.register_hook([](const loom::Tensor& g) { return g * 2.0; });
    return y;
  }
};

}  // namespace

TEST_CASE("every registered layer has a gradcheck row") {
  std::set<std::string> with_rows;
  for (const auto& [type, r] : rows()) with_rows.insert(type);
  const auto missing = loom_nn_test::types_without_rows(loom_nn_test::registered_layers(), with_rows);
  CHECK_MESSAGE(missing.empty(), "layers without a gradcheck row: " << loom_nn_test::joined(missing));
  // And no row for a type that is neither registered nor a harness module; a harness module's name
  // is not registered (it would shadow the real layer in the rows).
  for (const auto& type : with_rows) CHECK_MESSAGE(loom_nn_test::is_row_type(type), type);
  for (const auto& [name, factory] : loom_nn_test::harness_modules())
    CHECK_MESSAGE(!loom::nn::has_module_type(name), name << " is registered: rename the harness module");
}

TEST_CASE("float64 gradcheck of every layer, with respect to the inputs and the parameters") {
  for (const auto& [type, list] : rows()) {
    for (const Row& row : list) {
      CAPTURE(type);
      CAPTURE(row.config);
      auto m = loom_nn_test::make_layer(type, nlohmann::json::parse(row.config));
      m->to(kF64);
      if (row.warm_up) {
        m->train(true);
        for (int i = 0; i < 2; ++i) loom_nn_test::forward_of(*m, row.warm_up.make(), row.warm_up.several);
      }
      m->train(row.train);
      const loom::TensorList xs = row.input.make();
      const auto result = check_layer(*m, xs, row.input.several, row.train);
      INFO(result.report);
      CHECK(result.ok);
      // The parameters were part of the check: a backward reaches each of them.
      if (row.train) loom::manual_seed(777);
      const loom::TensorList outputs = loom_nn_test::forward_of(*m, xs, row.input.several);
      random_projection(outputs).backward();
      for (const auto& [name, p] : m->named_parameters()) {
        INFO("parameter " << name);
        REQUIRE(p.grad().defined());
        CHECK(loom::abs(p.grad()).sum().item<double>() > 0);
      }
    }
  }
}

TEST_CASE("the layer gradcheck catches a wrong parameter gradient") {
  WrongGradient m;
  const auto result = check_layer(m, {away_from_zero({2, 3}, 30)}, false, false);
  CHECK_FALSE(result.ok);
  CHECK(loom_nn_test::contains(result.report, "Jacobian mismatch"));
}

TEST_CASE("the multi-tensor rows check every input and output") {
  auto m = loom_nn_test::make_layer("test_attention", nlohmann::json::parse(R"({"embed_dim": 4})"));
  m->to(kF64);
  const loom::TensorList xs = rows().at("test_attention").at(0).input.make();
  const loom::TensorList outputs = loom_nn_test::forward_of(*m, xs, true);
  REQUIRE(outputs.size() == 3);
  CHECK(outputs[0].sizes() == loom::Shape{2, 3, 4});
  CHECK(outputs[1].sizes() == loom::Shape{2, 3, 5});
  CHECK(outputs[2].dtype() == loom::DType::Int64);
  // A masked key gets no weight.
  CHECK(loom::abs(outputs[1].select(0, 0).select(1, 1)).sum().item<double>() == 0);
  // A wrong gradient in one input's path (the key's) is caught.
  const auto wrong = [&m](const loom::TensorList& in) -> loom::TensorList {
    loom::Tensor key = in[1] * 1.0;
    key.register_hook([](const loom::Tensor& g) { return g * 2.0; });
    return (*m)(loom::TensorList{in[0], key, in[2], in[3]});
  };
  loom::TensorList checked = xs;
  for (loom::Tensor& x : checked)
    if (x.is_floating_point()) x.requires_grad_(true);
  const auto result = loom::autograd::gradcheck(wrong, checked);
  CHECK_FALSE(result.ok);
  CHECK(loom_nn_test::contains(result.report, "Jacobian mismatch"));
}
