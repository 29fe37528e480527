// Recurrent architectures over the core sequence layers (loom/nn/recurrent.hpp), with PyTorch's
// parameter names (embedding.weight, rnn.weight_ih_l0, ..., fc.weight), so a PyTorch model of the
// same layout loads its state_dict unchanged.
//
// "lstm_classifier": a sequence classifier.
//   float input (N, T, input_size), or (N, 1, T, input_size) (an image read row by row: the
//   Fashion-MNIST pipeline feeds it unchanged), or with vocab_size int64 tokens (N, T) through an
//   Embedding(vocab_size, embed_dim) → rnn (batch-first) → dropout → fc (N, num_classes).
//   Options (defaults): input_size (28) or vocab_size with embed_dim (64), hidden_size (128),
//   num_layers (1), cell ("lstm" | "gru" | "rnn_tanh"), bidirectional (false), dropout (0: between
//   layers and before the head), pooling ("last": the last layer's final hidden state, both
//   directions concatenated | "mean": the last layer's outputs averaged over the steps),
//   num_classes (10).
//
// "lstm_lm": a character or word language model: int64 tokens (N, T) → Embedding(vocab_size,
//   embed_dim) → LSTM (num_layers, hidden_size, dropout between layers) → dropout → fc
//   (N, T, vocab_size) logits. Options (defaults): vocab_size (required), embed_dim (64),
//   hidden_size (256), num_layers (1), dropout (0), tie_weights (false; fc.weight is
//   embedding.weight, which needs embed_dim == hidden_size, as in Press & Wolf 2017 and PyTorch's
//   word_language_model).
#include <nlohmann/json.hpp>

#include "common/arch_options.hpp"
#include "loom/nn/dropout.hpp"
#include "loom/nn/embedding.hpp"
#include "loom/nn/functional/linear.hpp"
#include "loom/nn/linear.hpp"
#include "loom/nn/recurrent.hpp"
#include "loom/plugin.hpp"
#include "loom/tensor_ops.hpp"

namespace {

using namespace loom;

std::shared_ptr<nn::RecurrentBase> make_rnn(const std::string& cell, const nn::RecurrentOptions& options) {
  if (cell == "gru") return std::make_shared<nn::GRU>(options);
  if (cell == "rnn_tanh") return std::make_shared<nn::RNN>(options, "tanh");
  return std::make_shared<nn::LSTM>(options);
}

// An int64 token batch (N, T), or a ShapeError naming the type.
void check_tokens(const std::string& type, const Tensor& x) {
  LOOM_CHECK(x.dtype() == DType::Int64 && x.dim() == 2, ShapeError,
             "{}: expected int64 tokens (N, T) (option vocab_size), found {} {}", type, dtype_name(x.dtype()),
             x.sizes().str());
}

struct ClassifierOptions {
  std::int64_t input_size = 28;
  std::int64_t vocab_size = 0;  // 0: float input
  std::int64_t embed_dim = 64;
  std::int64_t num_classes = 10;
  std::string cell = "lstm";
  bool mean_pooling = false;
  nn::RecurrentOptions rnn;
};

class LSTMClassifier final : public nn::Module {
 public:
  explicit LSTMClassifier(ClassifierOptions options) : Module("LSTMClassifier"), options_(std::move(options)) {
    if (options_.vocab_size > 0)
      embedding = register_module("embedding", std::make_shared<nn::Embedding>(options_.vocab_size, options_.embed_dim));
    rnn = register_module("rnn", make_rnn(options_.cell, options_.rnn));
    dropout = register_module("dropout", std::make_shared<nn::Dropout>(options_.rnn.dropout));
    fc = register_module("fc", std::make_shared<nn::Linear>(rnn->directions() * options_.rnn.hidden_size,
                                                            options_.num_classes));
  }

  Tensor forward(const Tensor& x) override {
    const TensorList out = (*rnn)(TensorList{sequence(x)});  // through operator(): summary() sees it
    return (*fc)((*dropout)(options_.mean_pooling ? out[0].mean({1}) : last_hidden(out[1])));
  }

  std::shared_ptr<nn::Embedding> embedding;  // null with float input
  std::shared_ptr<nn::RecurrentBase> rnn;
  std::shared_ptr<nn::Dropout> dropout;
  std::shared_ptr<nn::Linear> fc;

 private:
  // (N, T, features) from what the caller gives: tokens, a (N, T, F) batch or a one-channel image.
  Tensor sequence(const Tensor& x) {
    if (embedding) {
      check_tokens("lstm_classifier", x);
      return (*embedding)(x);
    }
    const std::int64_t f = options_.input_size;
    const bool fits = (x.dim() == 3 && x.size(2) == f) || (x.dim() == 4 && x.size(1) == 1 && x.size(3) == f);
    LOOM_CHECK(fits && x.is_floating_point(), ShapeError,
               "lstm_classifier: expected a float batch (N, T, {}) or (N, 1, T, {}) (option input_size), found {} {}",
               f, f, dtype_name(x.dtype()), x.sizes().str());
    return x.dim() == 4 ? x.squeeze(1) : x;
  }

  // The last layer's final state from h_n (num_layers·D, N, H): (N, D·H).
  Tensor last_hidden(const Tensor& h_n) const {
    const std::int64_t d = rnn->directions(), top = h_n.size(0) - d;
    if (d == 1) return h_n.select(0, top);
    return cat({h_n.select(0, top), h_n.select(0, top + 1)}, 1);
  }

  ClassifierOptions options_;
};

// fc of a language model with tied weights: its weight is the embedding's (registered under both
// names, listed once), its bias its own.
class TiedLinear final : public nn::Module {
 public:
  TiedLinear(const Tensor& embedding_weight, std::int64_t in_features)
      : Module("Linear"), in_features_(in_features) {
    weight = register_parameter("weight", embedding_weight);
    // PyTorch's Linear bias initialisation, U(−1/√in, 1/√in).
    bias = register_parameter("bias", nn::Linear(in_features, embedding_weight.size(0)).bias.detach());
  }
  Tensor forward(const Tensor& x) override { return F::linear(x, weight, bias); }
  std::string extra_repr() const override {
    return fmt::format("in_features={}, out_features={}, bias=true, tied to embedding.weight", in_features_,
                       weight.size(0));
  }

  Tensor weight, bias;

 private:
  std::int64_t in_features_;
};

class LSTMLanguageModel final : public nn::Module {
 public:
  LSTMLanguageModel(std::int64_t vocab_size, std::int64_t embed_dim, const nn::RecurrentOptions& options,
                    bool tie_weights)
      : Module("LSTMLanguageModel") {
    embedding = register_module("embedding", std::make_shared<nn::Embedding>(vocab_size, embed_dim));
    rnn = register_module("rnn", std::make_shared<nn::LSTM>(options));
    dropout = register_module("dropout", std::make_shared<nn::Dropout>(options.dropout));
    if (tie_weights)
      fc = register_module("fc", std::make_shared<TiedLinear>(embedding->weight, options.hidden_size));
    else
      fc = register_module("fc", std::make_shared<nn::Linear>(options.hidden_size, vocab_size));
  }

  // tokens (N, T) → logits (N, T, vocab_size).
  Tensor forward(const Tensor& tokens) override {
    check_tokens("lstm_lm", tokens);
    return (*fc)((*dropout)((*rnn)((*embedding)(tokens))));
  }

  std::shared_ptr<nn::Embedding> embedding;
  std::shared_ptr<nn::LSTM> rnn;
  std::shared_ptr<nn::Dropout> dropout;
  std::shared_ptr<nn::Module> fc;
};

// The options both types share: hidden_size, num_layers, dropout; batch-first layers.
nn::RecurrentOptions read_recurrent(nn::ConfigReader& r, const std::string& type, std::int64_t hidden) {
  nn::RecurrentOptions o;
  o.hidden_size = archs::read_positive(r, type, "hidden_size", hidden);
  o.num_layers = archs::read_positive(r, type, "num_layers", 1);
  o.dropout = archs::read_dropout(r, type, 0.0);
  o.batch_first = true;
  return o;
}

std::shared_ptr<nn::Module> make_classifier(const nlohmann::json& config) {
  const std::string type = "lstm_classifier";
  nn::ConfigReader r(type, config);
  ClassifierOptions o;
  if (r.has("vocab_size")) {
    LOOM_CHECK(!r.has("input_size"), ValueError,
               "{}: options 'vocab_size' (token input) and 'input_size' (float input) exclude each other (config {})",
               type, config.dump());
    o.vocab_size = archs::read_positive(r, type, "vocab_size", 1);
    o.embed_dim = archs::read_positive(r, type, "embed_dim", o.embed_dim);
  } else {
    LOOM_CHECK(!r.has("embed_dim"), ValueError, "{}: option 'embed_dim' needs 'vocab_size' (token input) (config {})",
               type, config.dump());
    o.input_size = archs::read_positive(r, type, "input_size", o.input_size);
  }
  o.num_classes = archs::read_num_classes(r, type);
  o.cell = r.text("cell", "lstm", {"lstm", "gru", "rnn_tanh"});
  o.mean_pooling = r.text("pooling", "last", {"last", "mean"}) == "mean";
  o.rnn = read_recurrent(r, type, 128);
  o.rnn.bidirectional = r.boolean("bidirectional", false);
  r.finish();
  o.rnn.input_size = o.vocab_size > 0 ? o.embed_dim : o.input_size;
  return std::make_shared<LSTMClassifier>(std::move(o));
}

std::shared_ptr<nn::Module> make_language_model(const nlohmann::json& config) {
  const std::string type = "lstm_lm";
  nn::ConfigReader r(type, config);
  const std::int64_t vocab_size = r.integer("vocab_size");
  LOOM_CHECK(vocab_size >= 1, ValueError, "{}: option 'vocab_size' must be at least 1, found {}", type, vocab_size);
  const std::int64_t embed_dim = archs::read_positive(r, type, "embed_dim", 64);
  nn::RecurrentOptions rnn = read_recurrent(r, type, 256);
  const bool tie = r.boolean("tie_weights", false);
  r.finish();
  LOOM_CHECK(!tie || embed_dim == rnn.hidden_size, ValueError,
             "{}: option 'tie_weights' needs embed_dim == hidden_size, found embed_dim {} and hidden_size {}", type,
             embed_dim, rnn.hidden_size);
  rnn.input_size = embed_dim;
  return std::make_shared<LSTMLanguageModel>(vocab_size, embed_dim, rnn, tie);
}

void register_all(PluginRegistrar& r) {
  r.add_architecture("lstm_classifier", make_classifier);
  r.add_architecture("lstm_lm", make_language_model);
}

}  // namespace

LOOM_PLUGIN("lstm", loom::PluginKind::Arch, "0.1.0", register_all, "lstm_classifier", "lstm_lm")
