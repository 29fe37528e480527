// Anomaly mode (issue 15): the first op whose forward or backward produces NaN or Inf is an
// error naming the op, the value and the module path that called it; off, nothing is checked.
#include <cmath>
#include <memory>
#include <string>

#include <doctest/doctest.h>

#include "common/test_helpers.hpp"
#include "loom/autograd.hpp"
#include "loom/nn.hpp"
#include "loom/tensor_ops.hpp"

namespace {

// A layer that takes the log of its input: NaN for negative inputs.
struct Log : loom::nn::Module {
  Log() : Module("Log") {}
  loom::Tensor forward(const loom::Tensor& x) override { return loom::log(x); }
};

// A layer whose forward is finite at 0 and whose backward is not: d sqrt(x)/dx = ∞ at 0.
struct Sqrt : loom::nn::Module {
  Sqrt() : Module("Sqrt") {}
  loom::Tensor forward(const loom::Tensor& x) override { return loom::sqrt(x); }
};

std::shared_ptr<loom::nn::Sequential> model_with(std::shared_ptr<loom::nn::Module> layer) {
  auto model = std::make_shared<loom::nn::Sequential>();
  model->push_back(std::make_shared<loom::nn::Linear>(3, 2));
  model->push_back(std::move(layer));
  return model;
}


}  // namespace

TEST_SUITE("anomaly") {

TEST_CASE("off, a NaN flows through without an error (as in PyTorch)") {
  REQUIRE_FALSE(loom::autograd::is_anomaly_enabled());
  auto model = model_with(std::make_shared<Log>());
  loom::Tensor x = loom::full({4, 3}, -5.0);
  CHECK_NOTHROW((*model)(x).sum().backward());
}

TEST_CASE("the first forward producing NaN is named, with the module path") {
  loom::autograd::DetectAnomalyGuard anomaly;
  auto model = model_with(std::make_shared<Log>());
  loom::nn::init::constant_(model->parameters()[0], 1.0);  // weight 1, so x·Wᵀ is −15
  const std::string msg = loom_test::message_of<loom::ValueError>([&] { (*model)(loom::full({4, 3}, -5.0)); });
  INFO(msg);
  CHECK(msg.find("anomaly mode: the forward of log produced nan") != std::string::npos);
  CHECK(msg.find("called from Sequential.1 (Log)") != std::string::npos);
  CHECK(msg.find("its inputs were finite") != std::string::npos);
}

TEST_CASE("a NaN coming in from outside the graph is reported at the first recorded op") {
  loom::autograd::DetectAnomalyGuard anomaly;
  auto model = model_with(std::make_shared<Sqrt>());
  loom::Tensor x = loom::from_vector<float>({1, NAN, 3}, {1, 3});
  const std::string msg = loom_test::message_of<loom::ValueError>([&] { (*model)(x); });
  INFO(msg);
  CHECK(msg.find("called from Sequential.0 (Linear)") != std::string::npos);
  CHECK(msg.find("already held nan") != std::string::npos);
}

TEST_CASE("the first backward producing Inf is named, with the module path of its forward") {
  loom::autograd::DetectAnomalyGuard anomaly;
  auto model = model_with(std::make_shared<Sqrt>());
  loom::nn::init::zeros_(model->parameters()[0]);
  loom::nn::init::zeros_(model->parameters()[1]);  // sqrt(0): finite forward, infinite gradient
  loom::Tensor y = (*model)(loom::ones({4, 3}));
  const std::string msg = loom_test::message_of<loom::ValueError>([&] { y.sum().backward(); });
  INFO(msg);
  CHECK(msg.find("anomaly mode: the backward of sqrt produced inf") != std::string::npos);
  CHECK(msg.find("called from Sequential.1 (Sqrt)") != std::string::npos);
  CHECK(msg.find("the gradients it received were finite") != std::string::npos);
}

TEST_CASE("the guard restores the mode it found") {
  {
    loom::autograd::DetectAnomalyGuard anomaly;
    CHECK(loom::autograd::is_anomaly_enabled());
  }
  CHECK_FALSE(loom::autograd::is_anomaly_enabled());
}

}
