// bench_train_step — one training step of the issue-7 models: zero_grad, forward, cross-entropy,
// backward, SGD (lr 0.01, momentum 0.9). The same program in PyTorch is bench/peers/train_step.py;
// the models and their parameter names are those of ../shared/peers/torch_bench.py:
//   mlp      Flatten, 784-256-128-10 with ReLU                                      batch 128
//   lenet    conv5(pad 2)-ReLU-maxpool2, conv5-ReLU-maxpool2, 400-120-84-10 with ReLU   batch 128
//   resnet8  conv3-BN-ReLU, basic blocks 16/32/64 (1x1 conv + BN shortcuts), avgpool, 64-10 batch 64
// Inputs are (N, 1, 28, 28) and do not require grad; x and y stay fixed over the steps.
//
// --init DIR loads the initial state written by `train_step.py --write-init DIR`: DIR/state/<name>.npy
// for every state_dict entry, DIR/x.npy and DIR/y.npy for the batch (.npy: numpy's format, parsed
// here; float32 and int64, C order). --check-steps K then runs K steps and prints loss_after_K: the
// loss of one more forward pass (train mode, no gradient) after the K updates, as the peer does.
// --model conv_resnet8_shapes times conv2d forward + backward for each conv of ResNet-8, batch 64.
// --rss-steps N runs N LeNet steps and prints the resident set after step 100 and step N.
//
// usage: bench_train_step --model mlp|lenet|resnet8|conv_resnet8_shapes [--steps N] [--warmup N]
//                         [--init DIR] [--check-steps K] [--rss-steps N]     threads: LOOM_NUM_THREADS
// prints: model=<m> batch=<b> step_ms=<median> img_per_s=<...>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "loom/autograd.hpp"
#include "loom/nn.hpp"
#include "loom/nn/conv.hpp"
#include "loom/nn/pooling.hpp"
#include "loom/optim/sgd.hpp"
#include "loom/profile.hpp"
#include "loom/random.hpp"
#include "loom/runtime.hpp"
#include "npy.hpp"
#include "step_timing.hpp"

namespace nn = loom::nn;
namespace F = loom::F;
using loom::Tensor;
using loom_bench::read_npy;

namespace {

// ---- models (children named as PyTorch names them, so state dicts map one to one) ----

std::shared_ptr<nn::Conv2d> conv(std::int64_t cin, std::int64_t cout, std::int64_t k, std::int64_t stride,
                                 std::int64_t pad, bool bias) {
  return std::make_shared<nn::Conv2d>(nn::Conv2dOptions{.in_channels = cin, .out_channels = cout,
                                                        .kernel_size = {k, k}, .stride = {stride, stride},
                                                        .padding = {pad, pad}, .bias = bias});
}

std::shared_ptr<nn::Sequential> seq(std::initializer_list<std::shared_ptr<nn::Module>> layers) {
  return std::make_shared<nn::Sequential>(layers);
}

std::shared_ptr<nn::Module> mlp() {
  return seq({
      std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(784, 256), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(256, 128), std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(128, 10)});
}

std::shared_ptr<nn::Module> lenet() {
  return seq({
      conv(1, 6, 5, 1, 2, true), std::make_shared<nn::ReLU>(), std::make_shared<nn::MaxPool2d>(2),
      conv(6, 16, 5, 1, 0, true), std::make_shared<nn::ReLU>(), std::make_shared<nn::MaxPool2d>(2),
      std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(400, 120), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(120, 84), std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(84, 10)});
}

// A basic block: relu(bn(conv(relu(bn(conv(x))))) + shortcut(x)); the shortcut is a 1x1 conv + BN
// when the shape changes.
class Block : public nn::Module {
 public:
  Block(std::int64_t cin, std::int64_t cout, std::int64_t stride) : Module("Block") {
    c1 = register_module("c1", conv(cin, cout, 3, stride, 1, false));
    b1 = register_module("b1", std::make_shared<nn::BatchNorm2d>(cout));
    c2 = register_module("c2", conv(cout, cout, 3, 1, 1, false));
    b2 = register_module("b2", std::make_shared<nn::BatchNorm2d>(cout));
    if (stride != 1 || cin != cout)
      sc = register_module("sc", seq({
                                     conv(cin, cout, 1, stride, 0, false), std::make_shared<nn::BatchNorm2d>(cout)}));
  }
  Tensor forward(const Tensor& x) override {
    Tensor y = F::relu((*b1)((*c1)(x)));
    y = (*b2)((*c2)(y));
    return F::relu(y + (sc ? (*sc)(x) : x));
  }
  std::shared_ptr<nn::Module> c1, b1, c2, b2, sc;
};

std::shared_ptr<nn::Module> resnet8() {
  return seq({
      conv(1, 16, 3, 1, 1, false), std::make_shared<nn::BatchNorm2d>(16), std::make_shared<nn::ReLU>(),
      std::make_shared<Block>(16, 16, 1), std::make_shared<Block>(16, 32, 2), std::make_shared<Block>(32, 64, 2),
      std::make_shared<nn::AdaptiveAvgPool2d>(std::vector<std::int64_t>{1}), std::make_shared<nn::Flatten>(),
      std::make_shared<nn::Linear>(64, 10)});
}

// ---- measuring ----

using loom_bench::median_step_ms;

double rss_mb() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

struct Args {
  std::string model;
  int steps = 20, warmup = 5, check_steps = 0, rss_steps = 0;
  std::string init;
};

int train_step(const Args& args) {
  std::shared_ptr<nn::Module> model;
  std::int64_t batch = 128;
  if (args.model == "mlp") model = mlp();
  else if (args.model == "lenet") model = lenet();
  else if (args.model == "resnet8") model = resnet8(), batch = 64;
  else throw std::runtime_error("--model: expected mlp, lenet, resnet8 or conv_resnet8_shapes, found " + args.model);

  Tensor x = loom::randn({batch, 1, 28, 28});
  Tensor y = loom::randint(0, 10, {batch});
  if (!args.init.empty()) {
    nn::StateDict state;
    for (const auto& [name, t] : model->state_dict()) state[name] = read_npy(args.init + "/state/" + name + ".npy");
    model->load_state_dict(state);
    x = read_npy(args.init + "/x.npy");
    y = read_npy(args.init + "/y.npy");
  }
  loom::optim::SGD opt(model->parameters(), {.lr = 0.01, .momentum = 0.9});
  auto step = [&] {
    opt.zero_grad();
    Tensor loss = F::cross_entropy((*model)(x), y);
    loss.backward();
    opt.step();
  };

  if (args.check_steps > 0) {
    for (int i = 0; i < args.check_steps; ++i) step();
    loom::NoGradGuard no_grad;
    std::printf("loss_after_%d=%.8g\n", args.check_steps, F::cross_entropy((*model)(x), y).item<double>());
  }
  if (args.rss_steps > 0) {
    double rss_100 = 0;
    for (int i = 1; i <= args.rss_steps; ++i) {
      step();
      if (i == std::min(100, args.rss_steps)) rss_100 = rss_mb();
    }
    const double rss_end = rss_mb();
    std::printf("rss_mb_after_100=%.2f rss_mb_after_%d=%.2f rss_growth_pct=%.2f\n", rss_100, args.rss_steps, rss_end,
                100.0 * (rss_end - rss_100) / rss_100);
  }
  if (args.steps > 0) {
    const double ms = median_step_ms(step, args.warmup, args.steps);
    std::printf("model=%s batch=%lld step_ms=%.3f img_per_s=%.0f\n", args.model.c_str(),
                static_cast<long long>(batch), ms, static_cast<double>(batch) / ms * 1000.0);
  }
  return 0;
}

// ResNet-8's convolutions, as bench/peers/train_step.py lists them.
struct ConvShape {
  const char* name;
  std::int64_t cin, cout, k, stride, hw;
};
const ConvShape kResNet8Convs[] = {
    {"stem_1-16_k3_s1_28", 1, 16, 3, 1, 28},    {"b1.c1_16-16_k3_s1_28", 16, 16, 3, 1, 28},
    {"b1.c2_16-16_k3_s1_28", 16, 16, 3, 1, 28}, {"b2.c1_16-32_k3_s2_28", 16, 32, 3, 2, 28},
    {"b2.c2_32-32_k3_s1_14", 32, 32, 3, 1, 14}, {"b2.sc_16-32_k1_s2_28", 16, 32, 1, 2, 28},
    {"b3.c1_32-64_k3_s2_14", 32, 64, 3, 2, 14}, {"b3.c2_64-64_k3_s1_7", 64, 64, 3, 1, 7},
    {"b3.sc_32-64_k1_s2_14", 32, 64, 1, 2, 14},
};

// Forward + backward of each conv alone: the weight gradient always, the input gradient except
// for the stem (its input is the images). Activations are channels-last, as Loom's convs make them.
int conv_shapes(const Args& args) {
  const std::int64_t batch = 64;
  double total = 0;
  for (const ConvShape& s : kResNet8Convs) {
    Tensor x = loom::randn({batch, s.cin, s.hw, s.hw});
    if (s.cin != 1) x = x.contiguous(loom::MemoryFormat::ChannelsLast).requires_grad_();
    Tensor w = (loom::randn({s.cout, s.cin, s.k, s.k}) * 0.1).requires_grad_();
    const F::Conv2dFuncOptions options{.stride = {s.stride, s.stride}, .padding = {s.k / 2, s.k / 2}};
    Tensor g;
    {
      loom::NoGradGuard no_grad;
      Tensor y = F::conv2d(x, w, {}, options);
      g = loom::randn(y.sizes()).contiguous(y.suggest_memory_format());
    }
    auto step = [&] {
      w.set_grad({});
      if (x.requires_grad()) x.set_grad({});
      F::conv2d(x, w, {}, options).backward(g);
    };
    const double ms = median_step_ms(step, args.warmup, args.steps);
    total += ms;
    std::printf("conv name=%s ms=%.3f\n", s.name, ms);
  }
  std::printf("model=conv_resnet8_shapes batch=%lld step_ms=%.3f img_per_s=%.0f\n", static_cast<long long>(batch),
              total, static_cast<double>(batch) / total * 1000.0);
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
    else if (a == "--rss-steps" && has_value) args.rss_steps = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr,
                   "usage: bench_train_step --model mlp|lenet|resnet8|conv_resnet8_shapes [--steps N] [--warmup N]\n"
                   "                        [--init DIR] [--check-steps K] [--rss-steps N]\n");
      return 2;
    }
  }
  if (args.rss_steps > 0) {
    if (args.model.empty()) args.model = "lenet";
    if (args.model != "lenet") {
      std::fprintf(stderr, "bench_train_step: --rss-steps runs LeNet; found --model %s\n", args.model.c_str());
      return 2;
    }
    args.steps = 0;
  }
  const char* env_threads = std::getenv("LOOM_NUM_THREADS");
  loom::set_num_threads(env_threads ? std::atoi(env_threads) : 2);
  loom::manual_seed(0);
  try {
    return args.model == "conv_resnet8_shapes" ? conv_shapes(args) : train_step(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_train_step: %s\n", e.what());
    return 1;
  }
}
