// Every registered layer against PyTorch 1.13 (layer_fixtures.json, written by
// make_layer_fixtures.py; norm_fixtures.json and recurrent_fixtures.json beside it), and built
// from JSON configs. A fixture case builds the layer with
// nn::build, converts it to float64, loads the case's parameters by dotted name (strict), and
// compares forward(inputs) and the gradients of Σ sum(output · grad_output) over the floating
// outputs with respect to every floating input and every parameter. The registry walk makes a
// registered layer without a fixture case or a JSON-build row fail.
//
// A fixture case (one line of layer_fixtures.json):
//   {"name", "type", "config", "mode": "train" | "eval",
//    "inputs": [tensor...], "parameters": {dotted name: tensor},
//    "outputs": [tensor...], "grad_outputs": [tensor | null (non-floating output)...],
//    "grad_inputs": [tensor | null (non-floating input)...], "grad_parameters": {dotted name: tensor},
//    optional "buffers": {dotted name: tensor}}
// with tensor = {"shape", "dtype": "float64" | "int64" | "bool", "data": row-major values}.
// One input and one output call the one-tensor forward m(x); anything else the multi-tensor
// forward m(TensorList{...}) (an LSTM's input and (h, c), attention's query, key, value and mask).
// "type" is a registered layer or a harness module (harness_modules.hpp, test-only).
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "helpers.hpp"
#include "layer_rows.hpp"
#include "loom/nn/module.hpp"
#include "loom/nn/registry.hpp"
#include "loom/tensor_ops.hpp"

using loom_nn_test::check_close;
using loom_nn_test::contains;
using loom_nn_test::message_of;
using loom_nn_test::values;

namespace {

nlohmann::json cases_of(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  return nlohmann::json::parse(in)["cases"];
}

// A fixture file next to layer_fixtures.json.
std::string sibling(const std::string& file) {
  return (std::filesystem::path(LOOM_NN_LAYER_FIXTURES).parent_path() / file).string();
}

// The cases of layer_fixtures.json, then those of norm_fixtures.json (next to it, written by
// make_norm_fixtures.py for the normalisation and resampling layers). The norm cases name their
// fields differently; they are brought to the layer cases' form here: "train" (bool) becomes
// "mode", "input", "output" and "grad_output" become one-element lists, grads["input"] becomes
// "grad_inputs", the other grads "grad_parameters", and their "buffers" (running statistics) are
// loaded with the parameters. Then the cases of attention_fixtures.json (make_attention_fixtures.py:
// attention, Transformer and positional-encoding layers) and of recurrent_fixtures.json
// (make_recurrent_fixtures.py), already in the layer cases' form.
const nlohmann::json& fixtures() {
  static const nlohmann::json cases = [] {
    nlohmann::json all = cases_of(LOOM_NN_LAYER_FIXTURES);
    for (nlohmann::json c : cases_of(sibling("norm_fixtures.json"))) {
      c["mode"] = c["train"].get<bool>() ? "train" : "eval";
      c["inputs"] = nlohmann::json::array({c["input"]});
      c["outputs"] = nlohmann::json::array({c["output"]});
      c["grad_outputs"] = nlohmann::json::array({c["grad_output"]});
      c["grad_inputs"] = nlohmann::json::array({c["grads"]["input"]});
      c["grad_parameters"] = nlohmann::json::object();
      for (const auto& [key, g] : c["grads"].items())
        if (key != "input") c["grad_parameters"][key] = g;
      all.push_back(std::move(c));
    }
    for (nlohmann::json c : cases_of(sibling("attention_fixtures.json"))) all.push_back(std::move(c));
    // Recurrent layers (make_recurrent_fixtures.py): already in the layer cases' form.
    for (nlohmann::json c : cases_of(sibling("recurrent_fixtures.json"))) all.push_back(std::move(c));
    return all;
  }();
  return cases;
}

loom::Tensor tensor_of(const nlohmann::json& j) {
  const loom::Shape shape(j["shape"].get<std::vector<std::int64_t>>());
  if (j["dtype"] == "int64") return loom::from_vector(j["data"].get<std::vector<std::int64_t>>(), shape);
  if (j["dtype"] == "bool") return loom::from_vector(j["data"].get<std::vector<bool>>(), shape);
  return loom::from_vector(j["data"].get<std::vector<double>>(), shape);
}

std::shared_ptr<loom::nn::Module> build_layer(const std::string& type, const nlohmann::json& config) {
  auto m = loom_nn_test::make_layer(type, config);
  REQUIRE(m != nullptr);
  return m;
}

// JSON-build rows: a config with non-default options, the class it makes, its extra_repr, the
// parameter shapes by dotted name, the required options, and a config with a wrongly typed
// option (empty for types without options) naming that option.
struct BuildRow {
  const char* config;
  const char* type_name;
  const char* repr;
  std::vector<std::pair<std::string, loom::Shape>> parameters;
  std::vector<std::string> required;
  const char* wrong_config;
  const char* wrong_option;
};

using ParameterShapes = std::vector<std::pair<std::string, loom::Shape>>;

// The parameters of a Transformer layer with d_model 4, nhead 2, dim_feedforward 6 under
// `prefix`, in PyTorch's order (named_parameters of torch.nn.TransformerEncoderLayer/DecoderLayer).
ParameterShapes transformer_layer_parameters(const std::string& prefix, bool decoder) {
  ParameterShapes p;
  const auto add = [&](const std::string& name, loom::Shape shape) { p.emplace_back(prefix + name, shape); };
  for (const char* attention : {"self_attn", "multihead_attn"}) {
    if (std::string(attention) == "multihead_attn" && !decoder) continue;
    add(std::string(attention) + ".in_proj_weight", {12, 4});
    add(std::string(attention) + ".in_proj_bias", {12});
    add(std::string(attention) + ".out_proj.weight", {4, 4});
    add(std::string(attention) + ".out_proj.bias", {4});
  }
  add("linear1.weight", {6, 4});
  add("linear1.bias", {6});
  add("linear2.weight", {4, 6});
  add("linear2.bias", {4});
  for (const char* norm : {"norm1", "norm2", "norm3"}) {
    if (std::string(norm) == "norm3" && !decoder) continue;
    add(std::string(norm) + ".weight", {4});
    add(std::string(norm) + ".bias", {4});
  }
  return p;
}

// A stack of `layers` such layers ("layers.N."), then a final norm, under `prefix`.
ParameterShapes transformer_stack_parameters(const std::string& prefix, int layers, bool decoder, bool norm) {
  ParameterShapes p;
  for (int i = 0; i < layers; ++i) {
    const ParameterShapes layer = transformer_layer_parameters(prefix + "layers." + std::to_string(i) + ".", decoder);
    p.insert(p.end(), layer.begin(), layer.end());
  }
  if (norm) {
    p.emplace_back(prefix + "norm.weight", loom::Shape{4});
    p.emplace_back(prefix + "norm.bias", loom::Shape{4});
  }
  return p;
}

ParameterShapes concatenated(ParameterShapes a, const ParameterShapes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const std::map<std::string, BuildRow>& build_rows() {
  static const std::map<std::string, BuildRow> rows = {
      {"linear",
       {R"({"in_features": 4, "out_features": 3, "bias": false})", "Linear", "in_features=4, out_features=3, bias=false",
        {{"weight", {3, 4}}}, {"in_features", "out_features"}, R"({"in_features": 4.5, "out_features": 3})",
        "in_features"}},
      {"identity", {"{}", "Identity", "", {}, {}, nullptr, nullptr}},
      {"flatten",
       {R"({"start_dim": 0, "end_dim": 2})", "Flatten", "start_dim=0, end_dim=2", {}, {}, R"({"start_dim": "1"})",
        "start_dim"}},
      {"relu", {"{}", "ReLU", "", {}, {}, nullptr, nullptr}},
      {"sigmoid", {"{}", "Sigmoid", "", {}, {}, nullptr, nullptr}},
      {"tanh", {"{}", "Tanh", "", {}, {}, nullptr, nullptr}},
      {"silu", {"{}", "SiLU", "", {}, {}, nullptr, nullptr}},
      {"leaky_relu",
       {R"({"negative_slope": 0.2})", "LeakyReLU", "negative_slope=0.2", {}, {}, R"({"negative_slope": "steep"})",
        "negative_slope"}},
      {"elu", {R"({"alpha": 1.5})", "ELU", "alpha=1.5", {}, {}, R"({"alpha": true})", "alpha"}},
      {"gelu", {R"({"approximate": "tanh"})", "GELU", "approximate='tanh'", {}, {}, R"({"approximate": 1})",
                "approximate"}},
      {"prelu",
       {R"({"num_parameters": 3, "init": 0.1})", "PReLU", "num_parameters=3", {{"weight", {3}}}, {},
        R"({"num_parameters": 2.5})", "num_parameters"}},
      {"softmax", {R"({"dim": 0})", "Softmax", "dim=0", {}, {}, R"({"dim": "last"})", "dim"}},
      {"log_softmax", {R"({"dim": 1})", "LogSoftmax", "dim=1", {}, {}, R"({"dim": 1.0})", "dim"}},
      {"maxout",
       {R"({"in_features": 4, "out_features": 3, "pieces": 2})", "Maxout", "pieces=2",
        {{"linear.weight", {6, 4}}, {"linear.bias", {6}}}, {"in_features", "out_features", "pieces"},
        R"({"in_features": 4, "out_features": 3, "pieces": "two"})", "pieces"}},
      {"dropout", {R"({"p": 0.3})", "Dropout", "p=0.3", {}, {}, R"({"p": "half"})", "p"}},
      {"dropout2d", {R"({"p": 0.6})", "Dropout2d", "p=0.6", {}, {}, R"({"p": null})", "p"}},
      {"embedding",
       {R"({"num_embeddings": 5, "embedding_dim": 4, "padding_idx": 1})", "Embedding", "5, 4, padding_idx=1",
        {{"weight", {5, 4}}}, {"num_embeddings", "embedding_dim"},
        R"({"num_embeddings": 5, "embedding_dim": [4]})", "embedding_dim"}},
      {"conv1d",
       {R"({"in_channels": 4, "out_channels": 6, "kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2,
           "groups": 2})",
        "Conv1d", "4, 6, kernel_size=3, stride=2, padding=1, dilation=2, groups=2",
        {{"weight", {6, 2, 3}}, {"bias", {6}}},
        {"in_channels", "out_channels", "kernel_size"}, R"({"in_channels": 4, "out_channels": 6, "kernel_size": "3"})",
        "kernel_size"}},
      {"conv2d",
       {R"({"in_channels": 4, "out_channels": 6, "kernel_size": [3, 2], "stride": [2, 1], "padding": [1, 2],
           "dilation": [2, 1], "groups": 2, "bias": false})",
        "Conv2d", "4, 6, kernel_size=(3, 2), stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2, bias=false",
        {{"weight", {6, 2, 3, 2}}}, {"in_channels", "out_channels", "kernel_size"},
        R"({"in_channels": 4, "out_channels": 6, "kernel_size": 3, "groups": 2.0})", "groups"}},
      {"conv_transpose2d",
       {R"({"in_channels": 4, "out_channels": 6, "kernel_size": 3, "stride": [2, 3], "padding": [1, 0],
           "output_padding": [1, 2], "groups": 2})",
        "ConvTranspose2d",
        "4, 6, kernel_size=(3, 3), stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2",
        {{"weight", {4, 3, 3, 3}}, {"bias", {6}}}, {"in_channels", "out_channels", "kernel_size"},
        R"({"in_channels": 4, "out_channels": 6, "kernel_size": 3, "output_padding": "1"})", "output_padding"}},
      {"max_pool2d",
       {R"({"kernel_size": 3, "stride": 2, "padding": 1, "dilation": [1, 2], "ceil_mode": true})", "MaxPool2d",
        "kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), dilation=(1, 2), ceil_mode=true", {}, {"kernel_size"},
        R"({"kernel_size": 2.5})", "kernel_size"}},
      {"avg_pool2d",
       {R"({"kernel_size": [2, 3], "stride": [2, 1], "padding": [1, 1], "count_include_pad": false,
           "ceil_mode": true})",
        "AvgPool2d", "kernel_size=(2, 3), stride=(2, 1), padding=(1, 1), ceil_mode=true, count_include_pad=false", {},
        {"kernel_size"}, R"({"kernel_size": 2, "ceil_mode": "yes"})", "ceil_mode"}},
      {"batch_norm1d",
       {R"({"num_features": 4, "momentum": 0.3, "affine": false})", "BatchNorm1d",
        "4, eps=1e-05, momentum=0.3, affine=false, track_running_stats=true", {}, {"num_features"},
        R"({"num_features": 4, "momentum": "fast"})", "momentum"}},
      {"batch_norm2d",
       {R"({"num_features": 3, "eps": 0.001, "track_running_stats": false})", "BatchNorm2d",
        "3, eps=0.001, momentum=0.1, affine=true, track_running_stats=false", {{"weight", {3}}, {"bias", {3}}},
        {"num_features"}, R"({"num_features": 3, "affine": "yes"})", "affine"}},
      {"layer_norm",
       {R"({"normalized_shape": [4, 5], "eps": 0.001})", "LayerNorm", "(4, 5), eps=0.001, elementwise_affine=true",
        {{"weight", {4, 5}}, {"bias", {4, 5}}}, {"normalized_shape"}, R"({"normalized_shape": [4, 5], "eps": "small"})",
        "eps"}},
      {"group_norm",
       {R"({"num_groups": 2, "num_channels": 6, "eps": 0.001})", "GroupNorm", "2, 6, eps=0.001, affine=true",
        {{"weight", {6}}, {"bias", {6}}}, {"num_groups", "num_channels"},
        R"({"num_groups": 2, "num_channels": 6, "affine": 0})", "affine"}},
      {"instance_norm2d",
       {R"({"num_features": 3, "momentum": 0.25, "affine": true, "track_running_stats": true})", "InstanceNorm2d",
        "3, eps=1e-05, momentum=0.25, affine=true, track_running_stats=true", {{"weight", {3}}, {"bias", {3}}},
        {"num_features"}, R"({"num_features": 3.5})", "num_features"}},
      {"upsample",
       {R"({"size": [5, 7], "mode": "bilinear", "align_corners": true})", "Upsample",
        "size=[5, 7], mode='bilinear', align_corners=true", {}, {}, R"({"size": [5, 7], "align_corners": "no"})",
        "align_corners"}},
      {"adaptive_avg_pool2d",
       {R"({"output_size": [3, 4]})", "AdaptiveAvgPool2d", "output_size=[3, 4]", {}, {"output_size"},
        R"({"output_size": "3"})", "output_size"}},
      // ---- recurrent layers ----
      {"rnn",
       {R"({"input_size": 3, "hidden_size": 4, "num_layers": 2, "nonlinearity": "relu", "bias": false,
           "batch_first": true, "dropout": 0.25, "bidirectional": true})",
        "RNN", "3, 4, num_layers=2, nonlinearity='relu', bias=false, batch_first=true, dropout=0.25, bidirectional=true",
        {{"weight_ih_l0", {4, 3}}, {"weight_hh_l0", {4, 4}}, {"weight_ih_l0_reverse", {4, 3}},
         {"weight_hh_l0_reverse", {4, 4}}, {"weight_ih_l1", {4, 8}}, {"weight_hh_l1", {4, 4}},
         {"weight_ih_l1_reverse", {4, 8}}, {"weight_hh_l1_reverse", {4, 4}}},
        {"input_size", "hidden_size"}, R"({"input_size": 3, "hidden_size": 4, "nonlinearity": "sigmoid"})",
        "nonlinearity"}},
      {"lstm",
       {R"({"input_size": 3, "hidden_size": 4, "proj_size": 2, "num_layers": 2})", "LSTM",
        "3, 4, proj_size=2, num_layers=2",
        {{"weight_ih_l0", {16, 3}}, {"weight_hh_l0", {16, 2}}, {"bias_ih_l0", {16}}, {"bias_hh_l0", {16}},
         {"weight_hr_l0", {2, 4}}, {"weight_ih_l1", {16, 2}}, {"weight_hh_l1", {16, 2}}, {"bias_ih_l1", {16}},
         {"bias_hh_l1", {16}}, {"weight_hr_l1", {2, 4}}},
        {"input_size", "hidden_size"}, R"({"input_size": 3, "hidden_size": 4, "bidirectional": "yes"})",
        "bidirectional"}},
      {"gru",
       {R"({"input_size": 3, "hidden_size": 2, "bidirectional": true, "batch_first": true})", "GRU",
        "3, 2, batch_first=true, bidirectional=true",
        {{"weight_ih_l0", {6, 3}}, {"weight_hh_l0", {6, 2}}, {"bias_ih_l0", {6}}, {"bias_hh_l0", {6}},
         {"weight_ih_l0_reverse", {6, 3}}, {"weight_hh_l0_reverse", {6, 2}}, {"bias_ih_l0_reverse", {6}},
         {"bias_hh_l0_reverse", {6}}},
        {"input_size", "hidden_size"}, R"({"input_size": 3, "hidden_size": 2, "dropout": "some"})", "dropout"}},
      {"rnn_cell",
       {R"({"input_size": 3, "hidden_size": 2, "nonlinearity": "relu"})", "RNNCell", "3, 2, nonlinearity='relu'",
        {{"weight_ih", {2, 3}}, {"weight_hh", {2, 2}}, {"bias_ih", {2}}, {"bias_hh", {2}}},
        {"input_size", "hidden_size"}, R"({"input_size": "3", "hidden_size": 2})", "input_size"}},
      {"lstm_cell",
       {R"({"input_size": 3, "hidden_size": 2, "bias": false})", "LSTMCell", "3, 2, bias=false",
        {{"weight_ih", {8, 3}}, {"weight_hh", {8, 2}}}, {"input_size", "hidden_size"},
        R"({"input_size": 3, "hidden_size": 2, "bias": 1})", "bias"}},
      {"gru_cell",
       {R"({"input_size": 3, "hidden_size": 2})", "GRUCell", "3, 2",
        {{"weight_ih", {6, 3}}, {"weight_hh", {6, 2}}, {"bias_ih", {6}}, {"bias_hh", {6}}},
        {"input_size", "hidden_size"}, R"({"input_size": 3, "hidden_size": 2.5})", "hidden_size"}},
      // ---- end of recurrent layers ----
      {"sequential",
       {R"({"layers": [{"type": "linear", "in_features": 3, "out_features": 2}, {"type": "relu"},
                       {"type": "linear", "in_features": 2, "out_features": 1, "bias": false}]})",
        "Sequential", "", {{"0.weight", {2, 3}}, {"0.bias", {2}}, {"2.weight", {1, 2}}}, {"layers"},
        R"({"layers": 3})", "layers"}},
      // ---- attention and Transformer layers (branch attn) ----
      {"multihead_attention",
       {R"({"embed_dim": 4, "num_heads": 2, "kdim": 3, "vdim": 5, "bias": false, "add_bias_kv": true,
           "batch_first": true})",
        "MultiheadAttention", "embed_dim=4, num_heads=2, dropout=0, bias=false, kdim=3, vdim=5, add_bias_kv=true, "
        "batch_first=true",
        {{"q_proj_weight", {4, 4}}, {"k_proj_weight", {4, 3}}, {"v_proj_weight", {4, 5}}, {"bias_k", {1, 1, 4}},
         {"bias_v", {1, 1, 4}}, {"out_proj.weight", {4, 4}}},
        {"embed_dim", "num_heads"}, R"({"embed_dim": 4, "num_heads": "two"})", "num_heads"}},
      {"transformer_encoder_layer",
       {R"({"d_model": 4, "nhead": 2, "dim_feedforward": 6, "dropout": 0.2, "activation": "gelu",
           "layer_norm_eps": 0.001, "batch_first": true, "norm_first": true})",
        "TransformerEncoderLayer",
        "d_model=4, nhead=2, dim_feedforward=6, dropout=0.2, activation=gelu, layer_norm_eps=0.001, batch_first=true, "
        "norm_first=true",
        transformer_layer_parameters("", false), {"d_model", "nhead"},
        R"({"d_model": 4, "nhead": 2, "norm_first": "yes"})", "norm_first"}},
      {"transformer_decoder_layer",
       {R"({"d_model": 4, "nhead": 2, "dim_feedforward": 6})", "TransformerDecoderLayer",
        "d_model=4, nhead=2, dim_feedforward=6, dropout=0.1, activation=relu, layer_norm_eps=1e-05, batch_first=false, "
        "norm_first=false",
        transformer_layer_parameters("", true), {"d_model", "nhead"},
        R"({"d_model": 4, "nhead": 2, "dim_feedforward": 6.5})", "dim_feedforward"}},
      {"transformer_encoder",
       {R"({"d_model": 4, "nhead": 2, "dim_feedforward": 6, "num_layers": 2, "norm": true})", "TransformerEncoder",
        "num_layers=2, norm=true", transformer_stack_parameters("", 2, false, true), {"d_model", "nhead", "num_layers"},
        R"({"d_model": 4, "nhead": 2, "num_layers": 2, "norm": 1})", "norm"}},
      {"transformer_decoder",
       {R"({"d_model": 4, "nhead": 2, "dim_feedforward": 6, "num_layers": 1})", "TransformerDecoder",
        "num_layers=1, norm=false", transformer_stack_parameters("", 1, true, false),
        {"d_model", "nhead", "num_layers"}, R"({"d_model": 4, "nhead": 2, "num_layers": "1"})", "num_layers"}},
      {"transformer",
       {R"({"d_model": 4, "nhead": 2, "num_encoder_layers": 1, "num_decoder_layers": 2, "dim_feedforward": 6,
           "dropout": 0.0, "activation": "gelu"})",
        "Transformer",
        "d_model=4, nhead=2, num_encoder_layers=1, num_decoder_layers=2, dim_feedforward=6, dropout=0, "
        "activation=gelu, layer_norm_eps=1e-05, batch_first=false, norm_first=false",
        concatenated(transformer_stack_parameters("encoder.", 1, false, true),
                     transformer_stack_parameters("decoder.", 2, true, true)),
        {}, R"({"d_model": 4, "nhead": 2, "activation": 1})", "activation"}},
      {"sinusoidal_positional_encoding",
       {R"({"d_model": 6, "max_len": 10, "batch_first": true})", "SinusoidalPositionalEncoding",
        "d_model=6, max_len=10, batch_first=true", {}, {"d_model"}, R"({"d_model": "six"})", "d_model"}},
      {"learned_positional_embedding",
       {R"({"d_model": 3, "max_len": 5})", "LearnedPositionalEmbedding", "d_model=3, max_len=5, batch_first=false",
        {{"weight", {5, 3}}}, {"d_model", "max_len"}, R"({"d_model": 3, "max_len": 5.5})", "max_len"}},
  };
  return rows;
}

std::set<std::string> fixture_types() {
  std::set<std::string> types;
  for (const auto& c : fixtures()) types.insert(c["type"].get<std::string>());
  return types;
}

std::set<std::string> keys_of(const std::map<std::string, BuildRow>& rows) {
  std::set<std::string> keys;
  for (const auto& [type, row] : rows) keys.insert(type);
  return keys;
}

}  // namespace

TEST_CASE("every registered layer has a PyTorch fixture case and a JSON-build row") {
  const std::vector<std::string> registered = loom_nn_test::registered_layers();
  REQUIRE(registered.size() >= 18);
  const auto no_fixture = loom_nn_test::types_without_rows(registered, fixture_types());
  const auto no_build_row = loom_nn_test::types_without_rows(registered, keys_of(build_rows()));
  CHECK_MESSAGE(no_fixture.empty(), "layers without a case in layer_fixtures.json or norm_fixtures.json (add one "
                                    "to make_layer_fixtures.py or make_norm_fixtures.py): "
                                        << loom_nn_test::joined(no_fixture));
  CHECK_MESSAGE(no_build_row.empty(),
                "layers without a JSON-build row: " << loom_nn_test::joined(no_build_row));
  // And no row for a type that is not registered (a renamed layer leaves its rows behind).
  for (const auto& type : fixture_types()) CHECK_MESSAGE(loom_nn_test::is_row_type(type), type);
  for (const auto& [type, row] : build_rows()) CHECK_MESSAGE(loom::nn::has_module_type(type), type);
}

TEST_CASE("the registry walk catches a type without a row") {
  CHECK(loom_nn_test::types_without_rows({"linear", "conv9d", "relu"}, {"linear", "relu"}) ==
        std::vector<std::string>{"conv9d"});
}

TEST_CASE("layers built from JSON: class, options, parameter shapes") {
  for (const auto& [type, row] : build_rows()) {
    CAPTURE(type);
    auto m = build_layer(type, nlohmann::json::parse(row.config));
    CHECK(m->type_name() == row.type_name);
    CHECK(m->extra_repr() == row.repr);
    CHECK(m->is_training());
    std::vector<std::pair<std::string, loom::Shape>> shapes;
    for (const auto& [name, p] : m->named_parameters()) {
      shapes.emplace_back(name, p.sizes());
      CHECK(p.dtype() == loom::DType::Float32);
      CHECK(p.requires_grad());
    }
    CHECK(shapes == row.parameters);
  }
}

TEST_CASE("JSON options reach the layer: initial values and behaviour") {
  // PReLU's init value.
  auto prelu = build_layer("prelu", nlohmann::json::parse(R"({"num_parameters": 3, "init": 0.1})"));
  check_close(values(prelu->named_parameters()[0].second), {0.1, 0.1, 0.1}, 1e-6, 0);
  // Embedding's padding row starts at zero.
  auto emb = build_layer("embedding", nlohmann::json::parse(R"({"num_embeddings": 5, "embedding_dim": 4, "padding_idx": 1})"));
  CHECK(values(emb->named_parameters()[0].second.select(0, 1)) == std::vector<double>{0, 0, 0, 0});
  // Defaults: leaky_relu's slope 0.01, softmax over the last dim, dropout's p 0.5.
  CHECK(build_layer("leaky_relu", nlohmann::json::object())->extra_repr() == "negative_slope=0.01");
  CHECK(build_layer("softmax", nlohmann::json::object())->extra_repr() == "dim=-1");
  CHECK(build_layer("dropout", nlohmann::json::object())->extra_repr() == "p=0.5");
  CHECK(build_layer("flatten", nlohmann::json::object())->extra_repr() == "start_dim=1, end_dim=-1");
  CHECK(build_layer("linear", nlohmann::json::parse(R"({"in_features": 2, "out_features": 1})"))->extra_repr() ==
        "in_features=2, out_features=1, bias=true");
}

TEST_CASE("an unknown option is a ValueError naming the type and the option") {
  for (const auto& [type, row] : build_rows()) {
    CAPTURE(type);
    nlohmann::json config = nlohmann::json::parse(row.config);
    config["bogus_option"] = 1;
    const std::string msg = message_of<loom::ValueError>([&] { build_layer(type, config); });
    CHECK(contains(msg, type));
    CHECK(contains(msg, "bogus_option"));
  }
}

TEST_CASE("a wrongly typed option is a ValueError naming the type and the option") {
  for (const auto& [type, row] : build_rows()) {
    if (!row.wrong_config) continue;  // a type without options
    CAPTURE(type);
    const std::string msg = message_of<loom::ValueError>([&] { build_layer(type, nlohmann::json::parse(row.wrong_config)); });
    CHECK(contains(msg, type));
    CHECK(contains(msg, std::string("'") + row.wrong_option + "'"));
  }
  // A string option outside its allowed values names them.
  const std::string msg = message_of<loom::ValueError>(
      [&] { build_layer("gelu", nlohmann::json::parse(R"({"approximate": "fast"})")); });
  CHECK(contains(msg, "approximate"));
  CHECK(contains(msg, "fast"));
  CHECK(contains(msg, "tanh"));
}

TEST_CASE("a missing required option is a ValueError naming it") {
  for (const auto& [type, row] : build_rows()) {
    for (const std::string& option : row.required) {
      CAPTURE(type);
      CAPTURE(option);
      nlohmann::json config = nlohmann::json::parse(row.config);
      config.erase(option);
      const std::string msg = message_of<loom::ValueError>([&] { build_layer(type, config); });
      CHECK(contains(msg, type));
      CHECK(contains(msg, "'" + option + "'"));
    }
  }
}

TEST_CASE("sequential: a bad child spec is an error naming the child's type and option") {
  const std::string msg = message_of<loom::ValueError>([&] {
    build_layer("sequential", nlohmann::json::parse(R"({"layers": [{"type": "relu"},
        {"type": "linear", "in_features": 2, "out_feature": 3}]})"));
  });
  CHECK(contains(msg, "linear"));
  CHECK(contains(msg, "out_feature"));
  CHECK_THROWS_AS(build_layer("sequential", nlohmann::json::parse(R"({"layers": [{"in_features": 2}]})")),
                  loom::ValueError);
}

TEST_CASE("out-of-domain option values are errors naming the layer") {
  CHECK(contains(message_of<loom::ValueError>([&] {
                   build_layer("linear", nlohmann::json::parse(R"({"in_features": 0, "out_features": 3})"));
                 }),
                 "Linear"));
  CHECK(contains(message_of<loom::ValueError>([&] { build_layer("dropout", nlohmann::json::parse(R"({"p": 1.5})")); }),
                 "Dropout"));
  CHECK(contains(message_of<loom::ValueError>([&] {
                   build_layer("maxout", nlohmann::json::parse(R"({"in_features": 2, "out_features": 2, "pieces": 0})"));
                 }),
                 "Maxout"));
  CHECK(contains(message_of<loom::ValueError>([&] { build_layer("prelu", nlohmann::json::parse(R"({"num_parameters": 0})")); }),
                 "PReLU"));
  CHECK_THROWS_AS(
      build_layer("embedding", nlohmann::json::parse(R"({"num_embeddings": 3, "embedding_dim": 2, "padding_idx": 3})")),
      loom::IndexError);
}

TEST_CASE("layers against PyTorch: outputs, input gradients and parameter gradients") {
  REQUIRE(fixtures().size() >= 18 + 21);
  for (const auto& c : fixtures()) {
    const std::string name = c["name"].get<std::string>();
    CAPTURE(name);
    auto m = build_layer(c["type"].get<std::string>(), c["config"]);
    m->to(loom::DType::Float64);
    m->train(c["mode"] == "train");
    loom::nn::StateDict params;
    for (const auto& [key, t] : c["parameters"].items()) params.emplace(key, tensor_of(t));
    if (c.contains("buffers"))
      for (const auto& [key, t] : c["buffers"].items()) params.emplace(key, tensor_of(t));
    REQUIRE(m->load_state_dict(params).ok());  // strict: the dotted names are PyTorch's

    loom::TensorList xs;
    for (const auto& j : c["inputs"]) {
      loom::Tensor x = tensor_of(j);
      if (x.is_floating_point()) x.requires_grad_(true);
      xs.push_back(x);
    }
    const bool several = xs.size() != 1 || c["outputs"].size() != 1;
    const loom::TensorList outputs = loom_nn_test::forward_of(*m, xs, several);
    REQUIRE(outputs.size() == c["outputs"].size());
    loom::Tensor projection = loom::zeros({}, loom::DType::Float64);
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      INFO("output " << i);
      const loom::Tensor expected = tensor_of(c["outputs"][i]);
      REQUIRE(outputs[i].sizes() == expected.sizes());
      CHECK(outputs[i].dtype() == expected.dtype());
      check_close(values(outputs[i]), values(expected), 1e-9, 1e-12);
      if (!c["grad_outputs"][i].is_null())
        projection = projection + (outputs[i] * tensor_of(c["grad_outputs"][i])).sum();
    }

    projection.backward();
    for (std::size_t i = 0; i < xs.size(); ++i) {
      if (c["grad_inputs"][i].is_null()) continue;
      INFO("gradient of input " << i);
      REQUIRE(xs[i].grad().defined());
      check_close(values(xs[i].grad()), values(tensor_of(c["grad_inputs"][i])), 1e-9, 1e-12);
    }
    std::map<std::string, loom::Tensor> by_name;
    for (const auto& [key, p] : m->named_parameters()) by_name.emplace(key, p);
    for (const auto& [key, g] : c["grad_parameters"].items()) {
      INFO("gradient of " << key);
      REQUIRE(by_name.count(key));
      REQUIRE(by_name[key].grad().defined());
      check_close(values(by_name[key].grad()), values(tensor_of(g)), 1e-9, 1e-12);
    }
  }
}
