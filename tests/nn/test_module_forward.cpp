// nn::Module through its public API, continued: forward/backward hooks, the default forwards,
// str(), summary() (COURSE.md example 8: the MLP 64→10→5→3 has 723 parameters) and the
// containers without a forward. Expected values are written out by hand.
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <sstream>

#include "helpers.hpp"
#include "loom/nn/activation.hpp"
#include "loom/nn/container.hpp"
#include "loom/nn/dropout.hpp"
#include "loom/nn/linear.hpp"
#include "loom/nn/module.hpp"
#include "loom/nn/summary.hpp"
#include "loom/random.hpp"

using loom_nn_test::contains;
using loom_nn_test::message_of;
using loom_nn_test::values;

namespace {

std::vector<std::string> names_of(const std::vector<std::pair<std::string, loom::Tensor>>& named) {
  std::vector<std::string> out;
  for (const auto& [name, t] : named) out.push_back(name);
  return out;
}

std::vector<double> doubles(const loom::Tensor& t) { return values(t); }

}  // namespace

TEST_CASE("forward pre/post hooks see the inputs and outputs; backward hooks the output gradients") {
  loom::manual_seed(8);
  auto fc = std::make_shared<loom::nn::Linear>(3, 2);
  loom::nn::Sequential model{fc, std::make_shared<loom::nn::Tanh>()};
  std::vector<std::string> calls;
  loom::Tensor pre_in, post_in, post_out, grad_out;
  const int pre = fc->register_forward_pre_hook([&](loom::nn::Module& m, const loom::TensorList& in) {
    calls.push_back("pre " + m.type_name());
    REQUIRE(in.size() == 1);
    pre_in = in[0];
  });
  const int post = fc->register_forward_hook(
      [&](loom::nn::Module& m, const loom::TensorList& in, const loom::TensorList& out) {
        calls.push_back("post " + m.type_name());
        REQUIRE(in.size() == 1);
        REQUIRE(out.size() == 1);
        post_in = in[0];
        post_out = out[0];
      });
  const int back = fc->register_backward_hook([&](loom::nn::Module& m, const loom::TensorList& grads) {
    calls.push_back("backward " + m.type_name());
    REQUIRE(grads.size() == 1);
    grad_out = grads[0];
  });
  const loom::Tensor x = loom::randn({4, 3});
  const loom::Tensor y = model(x);
  CHECK(calls == std::vector<std::string>{"pre Linear", "post Linear"});
  CHECK(pre_in.same_impl(x));
  CHECK(post_in.same_impl(x));
  const loom::Tensor h = fc->forward(x);  // forward() itself runs no hooks
  CHECK(calls.size() == 2);
  CHECK(doubles(post_out) == doubles(h));
  CHECK(doubles(loom::tanh(post_out)) == doubles(y));

  const loom::Tensor upstream = loom::randn({4, 2});
  y.backward(upstream);
  REQUIRE(calls.size() == 3);
  CHECK(calls[2] == "backward Linear");
  // d(sum(tanh(h)·g))/dh = g·(1 − tanh²(h))
  loom_nn_test::check_close(doubles(grad_out), doubles(upstream * (1.0 - y * y)), 1e-5, 1e-6);

  fc->remove_hook(pre);
  fc->remove_hook(back);
  calls.clear();
  model(x).sum().backward();
  CHECK(calls == std::vector<std::string>{"post Linear"});
  fc->remove_hook(post);
  calls.clear();
  model(x).sum().backward();
  CHECK(calls.empty());
}

TEST_CASE("hooks run in registration order; clear_hooks removes them all") {
  loom::nn::ReLU relu;
  std::vector<int> order;
  relu.register_forward_hook([&](loom::nn::Module&, const loom::TensorList&, const loom::TensorList&) { order.push_back(1); });
  relu.register_forward_hook([&](loom::nn::Module&, const loom::TensorList&, const loom::TensorList&) { order.push_back(2); });
  relu.register_forward_pre_hook([&](loom::nn::Module&, const loom::TensorList&) { order.push_back(0); });
  relu(loom::ones({2}));
  CHECK(order == std::vector<int>{0, 1, 2});
  relu.clear_hooks();
  relu(loom::ones({2}));
  CHECK(order.size() == 3);
}

TEST_CASE("a backward hook runs at every backward through a retained graph") {
  loom::nn::Linear fc(2, 2);
  int calls = 0;
  fc.register_backward_hook([&](loom::nn::Module&, const loom::TensorList&) { ++calls; });
  const loom::Tensor loss = fc(loom::ones({1, 2})).sum();
  loss.backward(loom::Tensor(), /*retain_graph=*/true);
  CHECK(calls == 1);
  loss.backward();
  CHECK(calls == 2);
}

TEST_CASE("a backward hook of a two-output module runs when only one output reaches the loss") {
  // As PyTorch's full backward hooks: the gradient of an output outside the loss is undefined.
  struct TwoHeads : loom::nn::Module {
    std::shared_ptr<loom::nn::Linear> fc;
    TwoHeads() : Module("TwoHeads") { fc = register_module("fc", std::make_shared<loom::nn::Linear>(2, 2)); }
    loom::TensorList forward(const loom::TensorList& xs) override {
      return {fc->forward(xs[0]), fc->forward(xs[1]) * 2.0};
    }
    using Module::forward;
  } heads;
  int calls = 0;
  loom::TensorList seen;
  heads.register_backward_hook([&](loom::nn::Module&, const loom::TensorList& grads) {
    ++calls;
    seen = grads;
  });
  const loom::TensorList inputs{loom::ones({1, 2}), loom::ones({1, 2})};
  SUBCASE("both outputs in the loss") {
    const loom::TensorList out = heads(inputs);
    (out[0].sum() + out[1].sum() * 3.0).backward();
    CHECK(calls == 1);
    REQUIRE(seen.size() == 2);
    CHECK(values(seen[0]) == std::vector<double>{1, 1});
    CHECK(values(seen[1]) == std::vector<double>{3, 3});
  }
  SUBCASE("only the first output in the loss") {
    const loom::TensorList out = heads(inputs);
    out[0].sum().backward();
    CHECK(calls == 1);
    REQUIRE(seen.size() == 2);
    REQUIRE(seen[0].defined());
    CHECK(values(seen[0]) == std::vector<double>{1, 1});
    CHECK_FALSE(seen[1].defined());
  }
}

TEST_CASE("a one-input, several-output module (a VAE's shape) is callable with a TensorList, with or without hooks") {
  struct Encoder : loom::nn::Module {
    Encoder() : Module("Encoder") {}
    loom::TensorList forward(const loom::TensorList& xs) override { return {xs[0] + 1.0, xs[0] * 2.0, xs[0] * 3.0}; }
    using Module::forward;
  } encoder;
  const loom::TensorList in{loom::ones({2})};
  CHECK(encoder(in).size() == 3);  // no hooks yet
  int calls = 0;
  encoder.register_forward_hook([&](loom::nn::Module&, const loom::TensorList& inputs, const loom::TensorList& outputs) {
    ++calls;
    CHECK(inputs.size() == 1);
    CHECK(outputs.size() == 3);
  });
  loom::TensorList out;
  CHECK_NOTHROW(out = encoder(in));  // hooks must not change which forward runs
  CHECK(out.size() == 3);
  CHECK(calls == 1);
}

TEST_CASE("str() prints the module tree as PyTorch does") {
  auto inner = std::make_shared<loom::nn::Sequential>();
  inner->push_back(std::make_shared<loom::nn::LeakyReLU>(0.2));
  inner->push_back("drop", std::make_shared<loom::nn::Dropout>(0.25));
  loom::nn::Sequential model{std::make_shared<loom::nn::Linear>(4, 3), inner,
                             std::make_shared<loom::nn::Linear>(3, 2, false), std::make_shared<loom::nn::Maxout>(2, 1, 2)};
  const std::string expected =
      "Sequential(\n"
      "  (0): Linear(in_features=4, out_features=3, bias=true)\n"
      "  (1): Sequential(\n"
      "    (0): LeakyReLU(negative_slope=0.2)\n"
      "    (drop): Dropout(p=0.25)\n"
      "  )\n"
      "  (2): Linear(in_features=3, out_features=2, bias=false)\n"
      "  (3): Maxout(\n"
      "    pieces=2\n"
      "    (linear): Linear(in_features=2, out_features=2, bias=true)\n"
      "  )\n"
      ")";
  CHECK(model.str() == expected);
  std::ostringstream os;
  os << model;
  CHECK(os.str() == expected);
  CHECK(loom::nn::ReLU().str() == "ReLU()");
  CHECK(loom::nn::Flatten(1, 2).str() == "Flatten(start_dim=1, end_dim=2)");
}

TEST_CASE("summary(): COURSE example 8, the MLP 64→10→5→3 has 723 parameters") {
  loom::nn::Sequential mlp{std::make_shared<loom::nn::Linear>(64, 10), std::make_shared<loom::nn::ReLU>(),
                           std::make_shared<loom::nn::Linear>(10, 5), std::make_shared<loom::nn::ReLU>(),
                           std::make_shared<loom::nn::Linear>(5, 3)};
  CHECK(mlp.num_parameters() == 723);
  mlp[0]->requires_grad_(false);
  const loom::nn::ModelSummary s = loom::nn::summary(mlp, {64});
  struct Expected {
    const char* name;
    const char* type;
    loom::Shape shape;
    std::int64_t parameters, trainable;
  };
  const std::vector<Expected> expected = {{"0", "Linear", {1, 10}, 650, 0},
                                          {"1", "ReLU", {1, 10}, 0, 0},
                                          {"2", "Linear", {1, 5}, 55, 55},
                                          {"3", "ReLU", {1, 5}, 0, 0},
                                          {"4", "Linear", {1, 3}, 18, 18}};
  REQUIRE(s.rows.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("row " << i);
    CHECK(s.rows[i].name == expected[i].name);
    CHECK(s.rows[i].type == expected[i].type);
    CHECK(s.rows[i].output_shape == expected[i].shape);
    CHECK(s.rows[i].parameters == expected[i].parameters);
    CHECK(s.rows[i].trainable == expected[i].trainable);
  }
  CHECK(s.total_parameters == 723);
  CHECK(s.trainable_parameters == 73);
  const std::string table = s.str();
  CHECK(contains(table, "0 (Linear)"));
  CHECK(contains(table, "(1, 3)"));
  CHECK(contains(table, "total parameters: 723"));
  CHECK(contains(table, "trainable parameters: 73"));
  // summary() leaves the model as it was: training mode, no hooks.
  CHECK(mlp.is_training());
  CHECK(mlp[1]->is_training());
  int calls = 0;
  mlp[0]->register_forward_hook([&](loom::nn::Module&, const loom::TensorList&, const loom::TensorList&) { ++calls; });
  mlp(loom::zeros({1, 64}));
  CHECK(calls == 1);
  // A failing forward is reported, and leaves the model as it was too.
  CHECK_THROWS_AS(loom::nn::summary(mlp, {63}), loom::ShapeError);
  CHECK(mlp.is_training());
  calls = 0;
  mlp(loom::zeros({1, 64}));
  CHECK(calls == 1);
}

TEST_CASE("summary() runs its forward pass in eval mode without recording") {
  struct ModeProbe : loom::nn::Module {
    std::vector<bool> training, grad_mode;
    ModeProbe() : Module("ModeProbe") {}
    loom::Tensor forward(const loom::Tensor& x) override {
      training.push_back(is_training());
      grad_mode.push_back(loom::is_grad_enabled());
      return x;
    }
  };
  auto probe = std::make_shared<ModeProbe>();
  loom::nn::Sequential model{std::make_shared<loom::nn::Linear>(3, 2), probe};
  const loom::nn::ModelSummary s = loom::nn::summary(model, {3});
  CHECK(probe->training == std::vector<bool>{false});
  CHECK(probe->grad_mode == std::vector<bool>{false});
  REQUIRE(s.rows.size() == 2);
  CHECK(s.rows[1].type == "ModeProbe");
  CHECK(s.rows[1].output_shape == loom::Shape{1, 2});
  CHECK(model.is_training());
}

TEST_CASE("summary() of nested containers names layers by their dotted path, in forward order") {
  auto block = std::make_shared<loom::nn::Sequential>();
  block->push_back("fc", std::make_shared<loom::nn::Linear>(6, 4));
  block->push_back("act", std::make_shared<loom::nn::Tanh>());
  loom::nn::Sequential model{std::make_shared<loom::nn::Flatten>(), block, std::make_shared<loom::nn::Linear>(4, 1)};
  const loom::nn::ModelSummary s = loom::nn::summary(model, {2, 3});
  std::vector<std::string> names;
  for (const auto& r : s.rows) names.push_back(r.name);
  CHECK(names == std::vector<std::string>{"0", "1.fc", "1.act", "2"});
  REQUIRE(s.rows.size() == 4);
  CHECK(s.rows[0].output_shape == loom::Shape{1, 6});
  CHECK(s.total_parameters == 28 + 5);
}

TEST_CASE("the default forwards: wrong arity is an error naming the module") {
  loom::nn::Linear fc(2, 2);
  loom::nn::Module& base = fc;  // Linear's forward(Tensor) hides the multi-tensor overload
  const loom::TensorList two{loom::ones({1, 2}), loom::ones({1, 2})};
  std::string msg = message_of<loom::ShapeError>([&] { base.forward(two); });
  CHECK(contains(msg, "Linear"));
  CHECK(contains(msg, "2"));
  CHECK_THROWS_AS(fc(two), loom::ShapeError);
  // One tensor through the multi-tensor form reaches forward(Tensor).
  const loom::TensorList one = fc(loom::TensorList{loom::ones({1, 2})});
  REQUIRE(one.size() == 1);
  CHECK(doubles(one[0]) == doubles(fc(loom::ones({1, 2}))));

  // A module with only a multi-tensor forward returning two tensors.
  struct Split : loom::nn::Module {
    Split() : Module("Split") {}
    loom::TensorList forward(const loom::TensorList& xs) override { return {xs[0], xs[0] * 2.0}; }
    using Module::forward;
  } split;
  msg = message_of<loom::ShapeError>([&] { split.forward(loom::ones({2})); });
  CHECK(contains(msg, "Split"));
  CHECK(split.forward(loom::TensorList{loom::ones({2})}).size() == 2);
}

TEST_CASE("a module that overrides no forward fails with an error naming it, not a crash") {
  // Run in a child process: unbounded recursion between the two default forwards would take the
  // whole suite down with it.
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // The child dies by the signal itself, not through doctest's crash report.
    for (int sig : {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL}) std::signal(sig, SIG_DFL);
    alarm(20);
    int code = 3;
    try {
      loom::nn::Module plain("Plain");
      plain.forward(loom::ones({2}));
      code = 1;  // returned something
    } catch (const loom::Error& e) {
      code = std::string(e.what()).find("Plain") != std::string::npos ? 0 : 2;
    } catch (...) {
    }
    _exit(code);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  INFO("child: exited " << WIFEXITED(status) << " code " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1)
                        << ", signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0)
                        << " (0 = a loom::Error naming 'Plain'; 2 = an error without the name; a signal = crash)");
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
}

TEST_CASE("ModuleList and ModuleDict hold children and have no forward of their own") {
  loom::nn::ModuleList list{std::make_shared<loom::nn::Linear>(2, 3), std::make_shared<loom::nn::ReLU>()};
  list.push_back(std::make_shared<loom::nn::Linear>(3, 1));
  CHECK(list.size() == 3);
  CHECK(names_of(list.named_parameters()) ==
        std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  CHECK(list[1]->type_name() == "ReLU");
  CHECK_THROWS_AS(list[3], loom::IndexError);
  CHECK(contains(message_of<loom::ValueError>([&] { list.forward(loom::ones({1, 2})); }), "ModuleList"));

  loom::nn::ModuleDict dict;
  dict.insert("encoder", std::make_shared<loom::nn::Linear>(2, 2));
  CHECK(dict.contains("encoder"));
  CHECK_FALSE(dict.contains("decoder"));
  CHECK(contains(message_of<loom::ValueError>([&] { (void)dict["decoder"]; }), "decoder"));
  CHECK(names_of(dict.named_parameters()) == std::vector<std::string>{"encoder.weight", "encoder.bias"});
  CHECK(contains(message_of<loom::ValueError>([&] { dict.forward(loom::ones({1, 2})); }), "ModuleDict"));
}
