// Argument validation of the losses (before anything is computed) and the Loss module interface.
#include "helpers.hpp"
#include "loom/nn/functional/loss.hpp"
#include "loom/nn/loss.hpp"

using loom_nn_test::contains;
using loom_nn_test::message_of;
namespace F = loom::nn::functional;
using loom::nn::Reduction;

TEST_CASE("class indices out of range are IndexErrors naming the loss and the value") {
  const loom::Tensor logits = loom::zeros({3, 4});
  std::string m = message_of<loom::IndexError>([&] { F::cross_entropy(logits, loom::tensor({0, 4, 1})); });
  CHECK(contains(m, "cross_entropy"));
  CHECK(contains(m, "index 4"));
  m = message_of<loom::IndexError>([&] { F::cross_entropy(logits, loom::tensor({0, -1, 1})); });
  CHECK(contains(m, "index -1"));
  m = message_of<loom::IndexError>([&] { F::nll_loss(logits, loom::tensor({7, 0, 1})); });
  CHECK(contains(m, "nll_loss"));
  CHECK(contains(m, "index 7"));
  m = message_of<loom::IndexError>([&] { F::multi_margin_loss(logits, loom::tensor({0, 1, 9})); });
  CHECK(contains(m, "multi_margin_loss"));
  CHECK(contains(m, "index 9"));
  // ignore_index is not out of range; any other negative value is.
  CHECK_NOTHROW(F::cross_entropy(logits, loom::tensor({0, -100, 1})));
  CHECK_NOTHROW(F::cross_entropy(logits, loom::tensor({0, 9, 1}), {.ignore_index = 9}));
  CHECK(contains(message_of<loom::IndexError>([&] { F::cross_entropy(logits, loom::tensor({0, -100, 1}), {.ignore_index = 2}); }),
                 "index -100"));
  // multi_margin_loss has no ignore_index: -100 is out of range.
  CHECK_THROWS_AS(F::multi_margin_loss(logits, loom::tensor({0, -100, 1})), loom::IndexError);
}

TEST_CASE("shape mismatches are ShapeErrors naming the loss and both shapes") {
  const loom::Tensor a = loom::zeros({2, 3}), b = loom::zeros({3, 2});
  for (auto [name, fn] : std::vector<std::pair<std::string, std::function<void()>>>{
           {"mse_loss", [&] { F::mse_loss(a, b); }},
           {"l1_loss", [&] { F::l1_loss(a, b); }},
           {"smooth_l1_loss", [&] { F::smooth_l1_loss(a, b); }},
           {"huber_loss", [&] { F::huber_loss(a, b); }},
           {"binary_cross_entropy", [&] { F::binary_cross_entropy(a, b); }},
           {"binary_cross_entropy_with_logits", [&] { F::binary_cross_entropy_with_logits(a, b); }},
           {"kl_div", [&] { F::kl_div(a, b); }},
           {"cross_entropy", [&] { F::cross_entropy(a, b); }}}) {
    INFO(name);
    const std::string m = message_of<loom::ShapeError>(fn);
    CHECK(contains(m, name));
    CHECK(contains(m, "(2, 3)"));
    CHECK(contains(m, "(3, 2)"));
  }
  const std::string m = message_of<loom::ShapeError>([] { F::cross_entropy(loom::zeros({2, 3, 4}), loom::tensor({0, 1})); });
  CHECK(contains(m, "(2, 4)"));  // the expected target shape
  CHECK(contains(message_of<loom::ShapeError>([] {
          F::cross_entropy(loom::zeros({2, 3}), loom::tensor({0, 1}), {.weight = loom::ones({4})});
        }), "weight"));
  CHECK(contains(message_of<loom::ShapeError>([] {
          F::binary_cross_entropy_with_logits(loom::zeros({2, 3}), loom::zeros({2, 3}), {.pos_weight = loom::ones({2})});
        }), "pos_weight"));
}

TEST_CASE("dtypes: class indices are int64, predictions and regression targets floating") {
  const loom::Tensor logits = loom::zeros({2, 3});
  std::string m = message_of<loom::DTypeError>([&] { F::cross_entropy(logits, loom::tensor({0, 1}).to(loom::DType::UInt8)); });
  CHECK(contains(m, "cross_entropy"));
  CHECK(contains(m, "int64"));
  m = message_of<loom::DTypeError>([&] { F::nll_loss(logits, loom::zeros({2})); });
  CHECK(contains(m, "nll_loss"));
  CHECK(contains(m, "int64"));
  CHECK(contains(message_of<loom::DTypeError>([&] { F::multi_margin_loss(logits, loom::zeros({2})); }), "int64"));
  CHECK(contains(message_of<loom::DTypeError>([] { F::mse_loss(loom::zeros({2}), loom::tensor({1, 2})); }),
                 "mse_loss"));
  CHECK(contains(message_of<loom::DTypeError>([] { F::cross_entropy(loom::tensor({{1, 2}}), loom::tensor({0})); }),
                 "cross_entropy"));
}

TEST_CASE("option values and reduction names are checked") {
  const loom::Tensor x = loom::zeros({2, 3});
  CHECK(contains(message_of<loom::ValueError>([&] { F::mse_loss(x, x, Reduction::BatchMean); }), "mse_loss"));
  CHECK(contains(message_of<loom::ValueError>([&] { F::cross_entropy(x, loom::tensor({0, 1}), {.label_smoothing = -0.1}); }),
                 "label_smoothing"));
  CHECK(contains(message_of<loom::ValueError>([&] { F::multi_margin_loss(x, loom::tensor({0, 1}), {.p = 3}); }),
                 "p = 1 or 2"));
  CHECK(contains(message_of<loom::ValueError>([&] { F::smooth_l1_loss(x, x, {.beta = -1}); }), "beta"));
  CHECK(contains(message_of<loom::ValueError>([&] { F::huber_loss(x, x, {.delta = 0}); }), "delta"));
  // BCE takes probabilities: logits are an error that points to the other loss.
  const std::string m = message_of<loom::ValueError>([&] { F::binary_cross_entropy(x + 2.0, x); });
  CHECK(contains(m, "[0, 1]"));
  CHECK(contains(m, "with_logits"));
  CHECK(loom::nn::reduction_from_name("batchmean", "kl_div", true) == Reduction::BatchMean);
  CHECK(contains(message_of<loom::ValueError>([] { loom::nn::reduction_from_name("batchmean", "MSELoss"); }), "MSELoss"));
  CHECK(contains(message_of<loom::ValueError>([] { loom::nn::reduction_from_name("avg", "L1Loss"); }), "\"avg\""));
  CHECK(Reduction{} == Reduction::Mean);  // value-initialised options reduce by mean
}

TEST_CASE("a Loss module takes (prediction, target) through every forward") {
  loom::nn::CrossEntropyLoss loss;
  const loom::Tensor logits = loom::tensor({{1.0, 2.0, 3.0}}), label = loom::tensor({2});
  // log(e + e² + e³) − 3, by hand.
  const double expected = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3.0;
  CHECK(loss(logits, label).item<double>() == doctest::Approx(expected).epsilon(1e-6));
  CHECK(loss.forward(logits, label).item<double>() == doctest::Approx(expected).epsilon(1e-6));
  const loom::TensorList out = loss.forward(loom::TensorList{logits, label});
  REQUIRE(out.size() == 1);
  CHECK(out[0].item<double>() == doctest::Approx(expected).epsilon(1e-6));
  CHECK(message_of<loom::ValueError>([&] { loss.forward(logits); }) == "CrossEntropyLoss takes (prediction, target), found one tensor");
  CHECK(contains(message_of<loom::ValueError>([&] { loss(logits); }), "CrossEntropyLoss takes (prediction, target)"));
  CHECK(contains(message_of<loom::ValueError>([&] { loss.forward(loom::TensorList{logits, label, label}); }),
                 "found 3 tensors"));
  // The reduction member is the one that counts.
  loss.reduction = Reduction::None;
  CHECK(loss(logits, label).sizes() == loom::Shape{1});
}

TEST_CASE("class weights are buffers: state_dict, to(dtype)") {
  loom::nn::NLLLoss loss({.weight = loom::tensor({1.0, 3.0})});
  const auto state = loss.state_dict();
  REQUIRE(state.count("weight") == 1);
  CHECK(loom::equal(state.at("weight"), loom::tensor({1.0, 3.0})));
  loss.to(loom::DType::Float64);
  CHECK(loss.options.weight.dtype() == loom::DType::Float64);
  // Weighted mean over [log p = −1 for class 0, −2 for class 1]: (1·1 + 3·2) / (1 + 3).
  const loom::Tensor log_probs = loom::tensor({{-1.0, -5.0}, {-5.0, -2.0}}, loom::DType::Float64);
  CHECK(loss(log_probs, loom::tensor({0, 1})).item<double>() == doctest::Approx(7.0 / 4.0));
  loss.load_state_dict({{"weight", loom::tensor({1.0, 1.0}, loom::DType::Float64)}});
  CHECK(loss(log_probs, loom::tensor({0, 1})).item<double>() == doctest::Approx(1.5));
}

TEST_CASE("every target ignored: the weighted mean is 0/0 = nan, as PyTorch") {
  const loom::Tensor out = F::cross_entropy(loom::zeros({2, 3}), loom::tensor({-100, -100}));
  CHECK(std::isnan(out.item<double>()));
  CHECK(F::cross_entropy(loom::zeros({2, 3}), loom::tensor({-100, -100}), Reduction::Sum).item<double>() == 0.0);
}
