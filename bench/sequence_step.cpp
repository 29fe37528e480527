// bench_sequence_step — one training step of the issue-16 recurrent models: zero_grad, forward,
// cross-entropy, backward, Adam (lr 1e-3). The same program in PyTorch is
// bench/peers/sequence_step.py, with the same module and parameter names:
//   row_lstm  Fashion-MNIST read row by row: LSTM(28 → 128, batch_first) over 28 steps, Linear(128, 10)
//             on the last step's h; x (128, 28, 28), y (128)                               batch 128
//   lstm_lm   a language-model step: Embedding(128, 512), LSTM(512 → 512, 2 layers, batch_first),
//             Linear(512, 128) on every step; tokens (32, 256), targets (32, 256)          batch 32
//   tiny_vit  a ViT on Fashion-MNIST-sized images: Conv2d(1, 64, 4, stride 4) patches (49 tokens of
//             64) + a learned position embedding, TransformerEncoder(2 pre-norm layers of 4 heads,
//             feed-forward 128, GELU, dropout 0, batch_first, final LayerNorm), mean over tokens,
//             Linear(64, 10); x (128, 1, 28, 28), y (128)                                  batch 128
// --init DIR loads the initial state written by `sequence_step.py --write-init DIR` (DIR/state/<name>.npy,
// DIR/x.npy, DIR/y.npy); --check-steps K then runs K steps and prints loss_after_K: the loss of one
// more forward pass (no gradient) after the K updates, as the peer does.
//
// usage: bench_sequence_step --model row_lstm|lstm_lm|tiny_vit [--steps N] [--warmup N] [--init DIR] [--check-steps K]
//        threads: LOOM_NUM_THREADS
// prints: model=<m> batch=<b> step_ms=<median> seq_per_s=<...>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include "loom/autograd.hpp"
#include "loom/nn.hpp"
#include "loom/nn/transformer.hpp"
#include "loom/optim/adam.hpp"
#include "loom/random.hpp"
#include "loom/runtime.hpp"
#include "npy.hpp"
#include "step_timing.hpp"

namespace nn = loom::nn;
namespace F = loom::F;
using loom::Tensor;

namespace {

// Classifies a sequence of rows by the LSTM's last hidden state.
class RowLSTM : public nn::Module {
 public:
  RowLSTM() : Module("RowLSTM") {
    lstm = register_module("lstm", std::make_shared<nn::LSTM>(nn::RecurrentOptions{
                                       .input_size = 28, .hidden_size = 128, .batch_first = true}));
    fc = register_module("fc", std::make_shared<nn::Linear>(128, 10));
  }
  Tensor forward(const Tensor& x) override {
    const loom::TensorList out = (*lstm)(loom::TensorList{x});
    return (*fc)(out[1].select(0, 0));  // h_n of the one layer: (N, 128)
  }
  std::shared_ptr<nn::LSTM> lstm;
  std::shared_ptr<nn::Linear> fc;
};

// Next-token logits (N·L, vocab) for tokens (N, L).
class LanguageModel : public nn::Module {
 public:
  static constexpr std::int64_t kVocab = 128, kWidth = 512;
  LanguageModel() : Module("LanguageModel") {
    embed = register_module("embed", std::make_shared<nn::Embedding>(nn::EmbeddingOptions{kVocab, kWidth}));
    lstm = register_module("lstm", std::make_shared<nn::LSTM>(nn::RecurrentOptions{
                                       .input_size = kWidth, .hidden_size = kWidth, .num_layers = 2,
                                       .batch_first = true}));
    fc = register_module("fc", std::make_shared<nn::Linear>(kWidth, kVocab));
  }
  Tensor forward(const Tensor& tokens) override {
    const Tensor h = (*lstm)((*embed)(tokens));
    return (*fc)(h.reshape({-1, kWidth}));
  }
  std::shared_ptr<nn::Embedding> embed;
  std::shared_ptr<nn::LSTM> lstm;
  std::shared_ptr<nn::Linear> fc;
};

// Patches of 4x4 pixels as 49 tokens through a pre-norm Transformer encoder; class logits (N, 10).
class TinyViT : public nn::Module {
 public:
  static constexpr std::int64_t kWidth = 64, kTokens = 49;
  TinyViT() : Module("TinyViT") {
    patch = register_module("patch", std::make_shared<nn::Conv2d>(nn::Conv2dOptions{
                                         .in_channels = 1, .out_channels = kWidth, .kernel_size = {4, 4},
                                         .stride = {4, 4}}));
    pos = register_parameter("pos", loom::randn({1, kTokens, kWidth}) * 0.02);
    encoder = register_module("encoder", std::make_shared<nn::TransformerEncoder>(nn::TransformerEncoderOptions{
                                             .layer = {.d_model = kWidth, .nhead = 4, .dim_feedforward = 128,
                                                       .dropout = 0.0, .activation = nn::TransformerActivation::GELU,
                                                       .batch_first = true, .norm_first = true},
                                             .num_layers = 2, .norm = true}));
    fc = register_module("fc", std::make_shared<nn::Linear>(kWidth, 10));
  }
  Tensor forward(const Tensor& x) override {
    const Tensor tokens = (*patch)(x).flatten(2).transpose(1, 2) + pos;  // (N, 49, 64)
    return (*fc)((*encoder)(tokens).mean({1}));
  }
  std::shared_ptr<nn::Conv2d> patch;
  Tensor pos;
  std::shared_ptr<nn::TransformerEncoder> encoder;
  std::shared_ptr<nn::Linear> fc;
};

struct Args {
  std::string model;
  int steps = 20, warmup = 5, check_steps = 0;
  std::string init;
};

int run(const Args& args) {
  std::shared_ptr<nn::Module> model;
  Tensor x, y;
  std::int64_t batch = 0;
  if (args.model == "row_lstm") {
    model = std::make_shared<RowLSTM>(), batch = 128;
    x = loom::randn({batch, 28, 28}), y = loom::randint(0, 10, {batch});
  } else if (args.model == "lstm_lm") {
    model = std::make_shared<LanguageModel>(), batch = 32;
    x = loom::randint(0, LanguageModel::kVocab, {batch, 256}), y = loom::randint(0, LanguageModel::kVocab, {batch, 256});
  } else if (args.model == "tiny_vit") {
    model = std::make_shared<TinyViT>(), batch = 128;
    x = loom::randn({batch, 1, 28, 28}), y = loom::randint(0, 10, {batch});
  } else {
    throw std::runtime_error("--model: expected row_lstm, lstm_lm or tiny_vit, found " + args.model);
  }
  if (!args.init.empty()) {
    nn::StateDict state;
    for (const auto& [name, t] : model->state_dict())
      state[name] = loom_bench::read_npy(args.init + "/state/" + name + ".npy");
    model->load_state_dict(state);
    x = loom_bench::read_npy(args.init + "/x.npy");
    y = loom_bench::read_npy(args.init + "/y.npy");
  }
  const Tensor targets = y.reshape({-1});
  loom::optim::Adam opt(model->parameters(), {.lr = 1e-3});
  auto step = [&] {
    opt.zero_grad();
    Tensor loss = F::cross_entropy((*model)(x), targets);
    loss.backward();
    opt.step();
  };
  if (args.check_steps > 0) {
    for (int i = 0; i < args.check_steps; ++i) step();
    loom::NoGradGuard no_grad;
    std::printf("loss_after_%d=%.8g\n", args.check_steps, F::cross_entropy((*model)(x), targets).item<double>());
  }
  if (args.steps > 0) {
    const double ms = loom_bench::median_step_ms(step, args.warmup, args.steps);
    std::printf("model=%s batch=%lld step_ms=%.3f seq_per_s=%.0f\n", args.model.c_str(), static_cast<long long>(batch),
                ms, static_cast<double>(batch) / ms * 1000.0);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--model" && has_value) args.model = argv[++i];
    else if (a == "--steps" && has_value) args.steps = std::atoi(argv[++i]);
    else if (a == "--warmup" && has_value) args.warmup = std::atoi(argv[++i]);
    else if (a == "--init" && has_value) args.init = argv[++i];
    else if (a == "--check-steps" && has_value) args.check_steps = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: bench_sequence_step --model row_lstm|lstm_lm|tiny_vit [--steps N] [--warmup N] [--init DIR]"
                           " [--check-steps K]\n");
      return 2;
    }
  }
  const char* env_threads = std::getenv("LOOM_NUM_THREADS");
  loom::set_num_threads(env_threads ? std::atoi(env_threads) : 2);
  loom::manual_seed(0);
  try {
    return run(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_sequence_step: %s\n", e.what());
    return 1;
  }
}
