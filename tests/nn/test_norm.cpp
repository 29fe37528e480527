// Normalisation and resampling layers: BatchNorm1d/2d, LayerNorm, GroupNorm, InstanceNorm2d,
// Upsample, AdaptiveAvgPool2d and their functions.
//   unit (nn_norm): COURSE example 12; running statistics after two training steps against hand
//     values (momentum 0.1, unbiased running var; and the cumulative average); eval vs train;
//     PyTorch 1.13 fixtures (norm_fixtures.json, written by make_norm_fixtures.py): output,
//     gradients of sum(output · grad_output) wrt input and parameters, buffers afterwards;
//     hand values of the resampling index formulas; JSON configs; errors naming the layer; layer
//     and group norm as one fused layer_norm node (float32 oneDNN vs float64, contiguous,
//     transposed and channels-last) and its LOOM_PROFILE names.
//   gradcheck (nn_norm_gradcheck, doctest suite "gradcheck"): float64 gradcheck of every layer wrt
//     its input and affine parameters, gradgradcheck of batch norm in training mode, and a
//     batch norm with detached statistics (a classic mistake) failing the check.
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "helpers.hpp"
#include "loom/autograd.hpp"
#include "loom/nn/functional/normalization.hpp"
#include "loom/nn/functional/pooling.hpp"
#include "loom/nn/functional/upsample.hpp"
#include "loom/nn/normalization.hpp"
#include "loom/nn/pooling.hpp"
#include "loom/nn/registry.hpp"
#include "loom/nn/upsample.hpp"
#include "loom/profile.hpp"
#include "loom/random.hpp"

namespace F = loom::nn::functional;
using loom_nn_test::check_close;
using loom_nn_test::contains;
using loom_nn_test::message_of;
using loom_nn_test::values;

namespace {

constexpr loom::DType kF64 = loom::DType::Float64;

loom::Tensor f64(std::initializer_list<std::initializer_list<double>> rows) { return loom::tensor(rows, kF64); }

std::shared_ptr<loom::nn::Module> build(const std::string& type, const std::string& config) {
  nlohmann::json spec = nlohmann::json::parse(config);
  spec["type"] = type;
  return loom::nn::build(spec);
}

loom::Tensor tensor_of(const nlohmann::json& j) {
  const loom::Shape shape(j["shape"].get<std::vector<std::int64_t>>());
  if (j["dtype"] == "int64") return loom::from_vector(j["data"].get<std::vector<std::int64_t>>(), shape);
  return loom::from_vector(j["data"].get<std::vector<double>>(), shape);
}

const nlohmann::json& fixtures() {
  static const nlohmann::json cases = [] {
    std::ifstream in(LOOM_NN_NORM_FIXTURES);
    REQUIRE_MESSAGE(in.good(), "cannot open " << LOOM_NN_NORM_FIXTURES);
    return nlohmann::json::parse(in)["cases"];
  }();
  return cases;
}

loom::Tensor buffer(loom::nn::Module& m, const std::string& name) {
  for (const auto& [n, b] : m.named_buffers())
    if (n == name) return b;
  FAIL("no buffer " << name);
  return {};
}

}  // namespace

// ---- COURSE.md and hand values ----------------------------------------------------------------------

TEST_CASE("COURSE example 12: batch norm of [1, 2, 3, 4] with gamma 1, beta 0, eps 0") {
  const loom::Tensor x = loom::tensor({1.0, 2.0, 3.0, 4.0}, kF64).view({4, 1});  // (N = 4, C = 1)
  const std::vector<double> expected{-1.3416, -0.4472, 0.4472, 1.3416};
  // Functional, momentum 1: the running stats become the batch's mean and unbiased variance.
  loom::Tensor running_mean = loom::zeros({1}, kF64), running_var = loom::ones({1}, kF64);
  const loom::Tensor y = F::batch_norm(x, running_mean, running_var, loom::ones({1}, kF64), loom::zeros({1}, kF64),
                                       true, 1.0, 0.0);
  check_close(values(y), expected, 0, 1e-4);
  CHECK(running_mean.item<double>() == doctest::Approx(2.5));
  CHECK(running_var.item<double>() == doctest::Approx(1.25 * 4 / 3));  // unbiased: 5/3
  // x̂ = (x − 2.5)/√1.25: the biased variance 1.25 normalises.
  CHECK(values(y)[3] == doctest::Approx(1.5 / std::sqrt(1.25)));
  // Through the module (float32, as a user would write it).
  loom::nn::BatchNorm1d bn({.num_features = 1, .eps = 0.0});
  check_close(values(bn(loom::tensor({1.0, 2.0, 3.0, 4.0}).view({4, 1}))), expected, 0, 1e-4);
}

TEST_CASE("running statistics after two training steps: momentum 0.1, unbiased variance") {
  loom::nn::BatchNorm1d bn(2);
  // Step 1, per channel {1, 3} and {2, 6}: means (2, 4), unbiased variances (2, 8).
  bn(f64({{1, 2}, {3, 6}}).to(loom::DType::Float32));
  check_close(values(bn.running_mean), {0.2, 0.4}, 1e-6, 0);
  check_close(values(bn.running_var), {0.9 + 0.2, 0.9 + 0.8}, 1e-6, 0);
  // Step 2, per channel {0, 2, 4} and {1, 1, 1}: means (2, 1), unbiased variances (4, 0).
  bn(f64({{0, 1}, {2, 1}, {4, 1}}).to(loom::DType::Float32));
  check_close(values(bn.running_mean), {0.9 * 0.2 + 0.2, 0.9 * 0.4 + 0.1}, 1e-6, 0);  // (0.38, 0.46)
  check_close(values(bn.running_var), {0.9 * 1.1 + 0.4, 0.9 * 1.7}, 1e-6, 0);       // (1.39, 1.53)
  CHECK(bn.num_batches_tracked.dtype() == loom::DType::Int64);
  CHECK(bn.num_batches_tracked.item<std::int64_t>() == 2);
  CHECK_FALSE(bn.running_mean.requires_grad());

  SUBCASE("momentum none: the cumulative average of the batch statistics") {
    auto cumulative = build("batch_norm1d", R"({"num_features": 2, "momentum": null})");
    (*cumulative)(f64({{1, 2}, {3, 6}}));
    (*cumulative)(f64({{0, 1}, {2, 1}, {4, 1}}));
    check_close(values(buffer(*cumulative, "running_mean")), {2, 2.5}, 1e-6, 0);
    check_close(values(buffer(*cumulative, "running_var")), {3, 4}, 1e-6, 0);
  }
}

TEST_CASE("batch norm in training mode keeps a channels-last input channels-last, values and gradients unchanged") {
  loom::manual_seed(8);
  const loom::Tensor w = loom::randn({16}), b = loom::randn({16});
  const loom::Tensor g = loom::randn({4, 16, 5, 6});
  auto run = [&](const loom::Tensor& x) {
    const loom::Tensor leaf = x.detach().requires_grad_(true);
    const loom::Tensor wl = w.detach().requires_grad_(true), bl = b.detach().requires_grad_(true);
    const loom::Tensor y = F::batch_norm(leaf, {}, {}, wl, bl, true);
    loom::sum(y * g).backward();
    return std::vector<loom::Tensor>{y, leaf.grad(), wl.grad(), bl.grad()};
  };
  const loom::Tensor x = loom::randn({4, 16, 5, 6}) * 2.0 + 1.0;
  const auto plain = run(x);
  const auto last = run(x.contiguous(loom::MemoryFormat::ChannelsLast));
  CHECK(last[0].is_contiguous(loom::MemoryFormat::ChannelsLast));
  CHECK(last[1].is_contiguous(loom::MemoryFormat::ChannelsLast));
  for (std::size_t i = 0; i < plain.size(); ++i) CHECK(loom::allclose(plain[i], last[i], 1e-4, 1e-4));
}

TEST_CASE("batch norm: train uses the batch, eval the running statistics") {
  loom::nn::BatchNorm2d bn({.num_features = 2, .eps = 0.0, .momentum = 0.5});
  bn.to(kF64);
  {
    loom::NoGradGuard no_grad;
    bn.weight.copy_(loom::tensor({2.0, 0.5}, kF64));
    bn.bias.copy_(loom::tensor({1.0, -1.0}, kF64));
    bn.running_mean.copy_(loom::tensor({1.0, -2.0}, kF64));
    bn.running_var.copy_(loom::tensor({4.0, 0.25}, kF64));
  }
  loom::manual_seed(5);
  const loom::Tensor x = loom::randn({3, 2, 2, 2}, kF64);
  bn.eval();
  const loom::Tensor y_eval = bn(x);
  // Eval: (x − running_mean)/√running_var · weight + bias, and the buffers stay.
  const loom::Tensor expected = (x - loom::tensor({1.0, -2.0}, kF64).view({1, 2, 1, 1})) /
                                    loom::tensor({2.0, 0.5}, kF64).view({1, 2, 1, 1}) *
                                    loom::tensor({2.0, 0.5}, kF64).view({1, 2, 1, 1}) +
                                loom::tensor({1.0, -1.0}, kF64).view({1, 2, 1, 1});
  CHECK(loom::allclose(y_eval, expected, 1e-12, 1e-12));
  check_close(values(bn.running_mean), {1, -2}, 0, 0);
  CHECK(bn.num_batches_tracked.item<std::int64_t>() == 0);
  // Train: each channel of the output has mean bias and standard deviation weight.
  bn.train();
  const loom::Tensor y_train = bn(x);
  CHECK_FALSE(loom::allclose(y_train, y_eval));
  check_close(values(loom::mean(y_train, {0, 2, 3})), {1, -1}, 0, 1e-12);
  check_close(values(loom::var(y_train, {0, 2, 3}, false)), {4, 0.25}, 1e-10, 0);
  CHECK(bn.num_batches_tracked.item<std::int64_t>() == 1);
  check_close(values(bn.running_mean), values(loom::mean(x, {0, 2, 3}) * 0.5 + loom::tensor({0.5, -1.0}, kF64)), 1e-12, 0);

  SUBCASE("without running statistics eval uses the batch too") {
    loom::nn::BatchNorm2d plain({.num_features = 2, .track_running_stats = false});
    plain.to(kF64);
    CHECK(plain.named_buffers().empty());
    plain.eval();
    const loom::Tensor a = plain(x);
    plain.train();
    CHECK(loom::allclose(a, plain(x)));
    check_close(values(loom::mean(a, {0, 2, 3})), {0, 0}, 0, 1e-12);
  }
}

TEST_CASE("instance norm: per-sample statistics; running stats only with track_running_stats") {
  loom::nn::InstanceNorm2d in(3);
  CHECK(in.parameters().empty());
  CHECK(in.named_buffers().empty());
  loom::manual_seed(9);
  const loom::Tensor x = loom::randn({2, 3, 4, 4}, kF64) * 3 + 1;
  const loom::Tensor y = in(x);
  check_close(values(loom::mean(y, {2, 3})), std::vector<double>(6, 0.0), 0, 1e-12);
  // Unbatched (C, H, W) gives the same as a batch of one.
  CHECK(loom::allclose(in(x[1]), y[1]));
  in.eval();  // no running stats: eval still normalises by the instance
  CHECK(loom::allclose(in(x), y));
}

TEST_CASE("layer norm and group norm normalise what they should") {
  loom::manual_seed(3);
  const loom::Tensor x = loom::randn({2, 4, 3, 5}, kF64) * 2 + 0.5;
  loom::nn::LayerNorm ln({.normalized_shape = {3, 5}, .elementwise_affine = false});
  const loom::Tensor a = ln(x);
  check_close(values(loom::mean(a, {2, 3})), std::vector<double>(8, 0.0), 0, 1e-12);
  check_close(values(loom::var(a, {2, 3}, false)), std::vector<double>(8, 1.0), 1e-4, 0);
  loom::nn::GroupNorm gn(2, 4);
  gn.to(kF64);
  const loom::Tensor b = gn(x).reshape({2, 2, -1});
  check_close(values(loom::mean(b, {2})), std::vector<double>(4, 0.0), 0, 1e-12);
  check_close(values(loom::var(b, {2}, false)), std::vector<double>(4, 1.0), 1e-4, 0);
  // Groups are not channels: channel 0 alone is not standardised.
  CHECK(std::abs(loom::mean(gn(x).select(1, 0)).item<double>()) > 1e-3);
}

// Every node reachable from `t`'s grad_fn, by name.
std::multiset<std::string> node_names(const loom::Tensor& t) {
  std::multiset<std::string> names;
  std::vector<std::shared_ptr<loom::autograd::Node>> stack{t.grad_fn()};
  std::set<const loom::autograd::Node*> seen;
  while (!stack.empty()) {
    auto node = stack.back();
    stack.pop_back();
    if (!node || !seen.insert(node.get()).second) continue;
    names.emplace(node->name());
    for (const auto& edge : node->next_edges) stack.push_back(edge.node);
  }
  return names;
}

// y and the gradients of sum(y·g) wrt x and the parameters, for `op` run on copies of x, w, b of
// `dtype` (x in `format`).
std::vector<loom::Tensor> forward_backward(
    const std::function<loom::Tensor(const loom::Tensor&, const loom::Tensor&, const loom::Tensor&)>& op,
    const loom::Tensor& x, const loom::Tensor& w, const loom::Tensor& b, const loom::Tensor& g, loom::DType dtype,
    loom::MemoryFormat format = loom::MemoryFormat::Contiguous) {
  // detach(): fresh leaves, even where to() returns its input.
  const loom::Tensor xl = x.detach().to(dtype).contiguous(format).requires_grad_(true);
  const loom::Tensor wl = w.detach().to(dtype).requires_grad_(true), bl = b.detach().to(dtype).requires_grad_(true);
  const loom::Tensor y = op(xl, wl, bl);
  loom::sum(y * g.to(dtype)).backward();
  return {y, xl.grad(), wl.grad(), bl.grad()};
}

TEST_CASE("layer norm and group norm: one fused layer_norm node; float32 (oneDNN) matches float64") {
  loom::manual_seed(41);
  SUBCASE("layer norm of (6, 9, 64) over the last dim, transformer-like") {
    const loom::Tensor x = loom::randn({6, 9, 64}, kF64) * 2 + 1, g = loom::randn({6, 9, 64}, kF64);
    const loom::Tensor w = loom::randn({64}, kF64), b = loom::randn({64}, kF64);
    auto op = [](const loom::Tensor& t, const loom::Tensor& wt, const loom::Tensor& bt) {
      return F::layer_norm(t, {64}, wt, bt);
    };
    const auto exact = forward_backward(op, x, w, b, g, kF64);
    const auto fast = forward_backward(op, x, w, b, g, loom::DType::Float32);
    const auto nodes = node_names(fast[0]);  // the fused node under the view back to (6, 9, 64)
    CHECK(nodes.count("layer_norm") == 1);
    CHECK(nodes.count("mean") == 0);
    const char* names[] = {"y", "dx", "dweight", "dbias"};
    for (std::size_t i = 0; i < exact.size(); ++i) {
      CAPTURE(names[i]);
      CHECK(fast[i].dtype() == loom::DType::Float32);
      CHECK(loom::allclose(fast[i].to(kF64), exact[i], 1e-4, 1e-4));
    }
  }
  SUBCASE("layer norm over the last two dims of a transposed view (copied to rows)") {
    const loom::Tensor x = loom::randn({3, 7, 5}, kF64), g = loom::randn({3, 5, 7}, kF64);
    const loom::Tensor w = loom::randn({5, 7}, kF64), b = loom::randn({5, 7}, kF64);
    auto op = [](const loom::Tensor& t, const loom::Tensor& wt, const loom::Tensor& bt) {
      return F::layer_norm(t.transpose(1, 2), {5, 7}, wt, bt);
    };
    const auto exact = forward_backward(op, x, w, b, g, kF64);
    const auto fast = forward_backward(op, x, w, b, g, loom::DType::Float32);
    // The composition it replaced, in float64.
    const loom::Tensor xt = x.transpose(1, 2);
    const loom::Tensor mu = loom::mean(xt, {1, 2}, true);
    const loom::Tensor composed = (xt - mu) * loom::rsqrt(loom::var(xt, {1, 2}, false, true) + 1e-5) * w + b;
    CHECK(loom::allclose(exact[0], composed, 1e-12, 1e-12));
    for (std::size_t i = 0; i < exact.size(); ++i) CHECK(loom::allclose(fast[i].to(kF64), exact[i], 1e-4, 1e-4));
  }
  SUBCASE("group norm of (4, 8, 6, 6), 4 groups: contiguous and channels-last") {
    const loom::Tensor x = loom::randn({4, 8, 6, 6}, kF64) * 3 - 1, g = loom::randn({4, 8, 6, 6}, kF64);
    const loom::Tensor w = loom::randn({8}, kF64), b = loom::randn({8}, kF64);
    auto op = [](const loom::Tensor& t, const loom::Tensor& wt, const loom::Tensor& bt) {
      return F::group_norm(t, 4, wt, bt);
    };
    const auto exact = forward_backward(op, x, w, b, g, kF64);
    // The definition: each group's 2·36 values standardised, then the per-channel affine.
    const loom::Tensor grouped = x.reshape({4, 4, -1});
    const loom::Tensor standardised = ((grouped - loom::mean(grouped, {2}, true)) *
                                       loom::rsqrt(loom::var(grouped, {2}, false, true) + 1e-5))
                                          .reshape({4, 8, 6, 6});
    CHECK(loom::allclose(exact[0], standardised * w.view({1, 8, 1, 1}) + b.view({1, 8, 1, 1}), 1e-12, 1e-12));
    for (auto format : {loom::MemoryFormat::Contiguous, loom::MemoryFormat::ChannelsLast}) {
      const auto fast = forward_backward(op, x, w, b, g, loom::DType::Float32, format);
      CHECK(node_names(fast[0]).count("layer_norm") == 1);
      for (std::size_t i = 0; i < exact.size(); ++i) CHECK(loom::allclose(fast[i].to(kF64), exact[i], 1e-4, 1e-4));
    }
  }
}

TEST_CASE("LOOM_PROFILE names the fused ops layer_norm and backward layer_norm") {
  const bool was_enabled = loom::profiling_enabled();
  loom::set_profiling(true);
  loom::reset_profile();
  const loom::Tensor x = loom::randn({4, 16}).requires_grad_(true);
  loom::sum(F::layer_norm(x, {16}) * loom::randn({4, 16})).backward();
  std::set<std::string> names;
  for (const loom::ProfileRow& row : loom::profile_rows()) names.insert(row.name);
  loom::set_profiling(was_enabled);
  CHECK(names.count("layer_norm") == 1);
  CHECK(names.count("backward layer_norm") == 1);
}

TEST_CASE("resampling: hand values of the index formulas") {
  const loom::Tensor x = f64({{1, 2}, {3, 4}}).view({1, 1, 2, 2});
  SUBCASE("nearest, scale 2") {
    check_close(values(F::interpolate(x, {.scale_factor = {2}})),
                {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, 0, 0);
  }
  SUBCASE("nearest to 3x3: src = floor(dst · 2/3)") {
    check_close(values(F::interpolate(x, {.size = {3}})), {1, 1, 2, 1, 1, 2, 3, 3, 4}, 0, 0);
  }
  SUBCASE("bilinear 2x2 → 3x3, align_corners: the corners stay, the centre averages") {
    check_close(values(F::interpolate(x, {.size = {3, 3}, .mode = F::InterpolateMode::Bilinear, .align_corners = true})),
                {1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4}, 0, 1e-12);
  }
  SUBCASE("bilinear 2x2 → 4x4 without align_corners: src = (dst + 0.5)/2 − 0.5, clamped at 0") {
    // Along an axis: src = 0 (clamped), 0.25, 0.75, 1.25 → weights on (a, b): 1, .75/.25, .25/.75, 0/1.
    const std::vector<double> row{1, 1.25, 1.75, 2};
    const loom::Tensor y = F::interpolate(x, {.scale_factor = {2}, .mode = F::InterpolateMode::Bilinear});
    check_close(values(y.select(2, 0).flatten()), row, 0, 1e-12);
    check_close(values(y.select(3, 0).flatten()), {1, 1.5, 2.5, 3}, 0, 1e-12);
  }
  SUBCASE("adaptive average pool 5x5 → 3x3: bins [0, 2), [1, 4), [3, 5)") {
    const loom::Tensor grid = loom::arange(0, 25, 1, kF64).view({1, 5, 5});  // value 5r + c
    check_close(values(F::adaptive_avg_pool2d(grid, {3, 3})), {3, 4.5, 6, 10.5, 12, 13.5, 18, 19.5, 21}, 0, 1e-12);
    check_close(values(F::adaptive_avg_pool2d(grid, {1, 1})), {12}, 0, 1e-12);
  }
  SUBCASE("adaptive average pool 6x4 → 3x2: sizes that divide are plain 2x2 average pooling") {
    const loom::Tensor grid = loom::arange(0, 24, 1, kF64).view({1, 6, 4});  // value 4r + c
    check_close(values(F::adaptive_avg_pool2d(grid, {3, 2})), {2.5, 4.5, 10.5, 12.5, 18.5, 20.5}, 0, 1e-12);
  }
}

TEST_CASE("channels-last and float32 inputs give the float64 row-major values") {
  loom::manual_seed(17);
  const loom::Tensor x = loom::randn({2, 4, 5, 6}, kF64) * 2 + 1;
  const loom::Tensor x_cl = x.contiguous(loom::MemoryFormat::ChannelsLast);
  const loom::Tensor x32 = x.to(loom::DType::Float32);
  const loom::Tensor w = loom::tensor({0.5, 1.5, -1.0, 2.0}, kF64), b = loom::tensor({0.1, 0.2, 0.3, 0.4}, kF64);
  const std::vector<std::pair<const char*, std::function<loom::Tensor(const loom::Tensor&)>>> ops = {
      {"batch_norm", [&](const loom::Tensor& t) { return F::batch_norm(t, {}, {}, w.to(t.dtype()), b.to(t.dtype()), true); }},
      {"group_norm", [&](const loom::Tensor& t) { return F::group_norm(t, 2, w.to(t.dtype()), b.to(t.dtype())); }},
      {"instance_norm", [&](const loom::Tensor& t) { return F::instance_norm(t, {}, {}, w.to(t.dtype()), b.to(t.dtype())); }},
      {"layer_norm", [&](const loom::Tensor& t) { return F::layer_norm(t, {5, 6}); }},
      {"nearest", [](const loom::Tensor& t) { return F::interpolate(t, {.scale_factor = {2, 3}}); }},
      {"bilinear", [](const loom::Tensor& t) {
         return F::interpolate(t, {.size = {7, 4}, .mode = F::InterpolateMode::Bilinear});
       }},
      {"adaptive_avg_pool2d", [](const loom::Tensor& t) { return F::adaptive_avg_pool2d(t, {3, 4}); }},
      {"adaptive_avg_pool2d, sizes that divide", [](const loom::Tensor& t) { return F::adaptive_avg_pool2d(t, {5, 3}); }},
  };
  for (const auto& [name, op] : ops) {
    CAPTURE(name);
    const loom::Tensor expected = op(x);
    CHECK(loom::allclose(op(x_cl), expected, 1e-12, 1e-12));
    const loom::Tensor y32 = op(x32);
    CHECK(y32.dtype() == loom::DType::Float32);
    CHECK(loom::allclose(y32.to(kF64), expected, 1e-4, 1e-5));
  }
}

// ---- PyTorch fixtures --------------------------------------------------------------------------------

TEST_CASE("PyTorch fixtures: output, gradients and running statistics") {
  REQUIRE(fixtures().size() >= 20);
  std::set<std::string> covered;
  for (const auto& c : fixtures()) {
    const std::string name = c["name"];
    CAPTURE(name);
    covered.insert(c["type"].get<std::string>());
    nlohmann::json spec = c["config"];
    spec["type"] = c["type"];
    auto m = loom::nn::build(spec);
    m->to(kF64);
    loom::nn::StateDict state;
    for (const auto& [key, t] : c["parameters"].items()) state[key] = tensor_of(t);
    for (const auto& [key, t] : c["buffers"].items()) state[key] = tensor_of(t);
    m->load_state_dict(state);  // strict: the names match PyTorch's
    m->train(c["train"].get<bool>());
    const loom::Tensor x = tensor_of(c["input"]).requires_grad_(true);
    const loom::Tensor y = (*m)(x);
    REQUIRE(y.sizes() == tensor_of(c["output"]).sizes());
    check_close(values(y), values(tensor_of(c["output"])), 1e-9, 1e-10);
    loom::TensorList wrt{x};
    std::vector<std::string> names{"input"};
    for (const auto& [pname, p] : m->named_parameters()) {
      wrt.push_back(p);
      names.push_back(pname);
    }
    const loom::TensorList grads = loom::autograd::grad({(y * tensor_of(c["grad_output"])).sum()}, wrt);
    REQUIRE(grads.size() == c["grads"].size());
    for (std::size_t i = 0; i < grads.size(); ++i) {
      INFO("gradient wrt " << names[i]);
      check_close(values(grads[i]), values(tensor_of(c["grads"][names[i]])), 1e-8, 1e-10);
    }
    for (const auto& [key, t] : c["buffers_after"].items()) {
      INFO("buffer " << key);
      check_close(values(buffer(*m, key)), values(tensor_of(t)), 1e-10, 1e-12);
    }
  }
  CHECK(covered == std::set<std::string>{"batch_norm1d", "batch_norm2d", "layer_norm", "group_norm", "instance_norm2d",
                                         "upsample", "adaptive_avg_pool2d"});
}

// ---- registry and errors -------------------------------------------------------------------------------

TEST_CASE("built from JSON: class, options, parameters and buffers") {
  struct Row {
    const char* type;
    const char* config;
    const char* type_name;
    const char* repr;
    std::vector<std::string> parameters, buffers;
  };
  const std::vector<Row> rows = {
      {"batch_norm1d", R"({"num_features": 4, "momentum": 0.3, "affine": false})", "BatchNorm1d",
       "4, eps=1e-05, momentum=0.3, affine=false, track_running_stats=true", {},
       {"running_mean", "running_var", "num_batches_tracked"}},
      {"batch_norm2d", R"({"num_features": 3, "eps": 0.001, "track_running_stats": false})", "BatchNorm2d",
       "3, eps=0.001, momentum=0.1, affine=true, track_running_stats=false", {"weight", "bias"}, {}},
      {"layer_norm", R"({"normalized_shape": [4, 5]})", "LayerNorm", "(4, 5), eps=1e-05, elementwise_affine=true",
       {"weight", "bias"}, {}},
      {"group_norm", R"({"num_groups": 2, "num_channels": 6, "affine": false})", "GroupNorm",
       "2, 6, eps=1e-05, affine=false", {}, {}},
      {"instance_norm2d", R"({"num_features": 3})", "InstanceNorm2d",
       "3, eps=1e-05, momentum=0.1, affine=false, track_running_stats=false", {}, {}},
      {"upsample", R"({"size": [5, 7], "mode": "bilinear", "align_corners": true})", "Upsample",
       "size=[5, 7], mode='bilinear', align_corners=true", {}, {}},
      {"upsample", R"({"scale_factor": 2})", "Upsample", "scale_factor=[2], mode='nearest'", {}, {}},
      {"adaptive_avg_pool2d", R"({"output_size": 3})", "AdaptiveAvgPool2d", "output_size=[3, 3]", {}, {}},
  };
  for (const Row& row : rows) {
    CAPTURE(row.config);
    auto m = build(row.type, row.config);
    CHECK(m->type_name() == row.type_name);
    CHECK(m->extra_repr() == row.repr);
    std::vector<std::string> parameters, buffers;
    for (const auto& [n, p] : m->named_parameters()) parameters.push_back(n);
    for (const auto& [n, b] : m->named_buffers()) buffers.push_back(n);
    CHECK(parameters == row.parameters);
    CHECK(buffers == row.buffers);
  }
  // Defaults as PyTorch: weight ones, bias zeros, running mean 0, running var 1.
  auto bn = build("batch_norm2d", R"({"num_features": 2})");
  for (const auto& [n, t] : bn->state_dict()) {
    CAPTURE(n);
    const double expected = n == "weight" || n == "running_var" ? 1.0 : 0.0;
    check_close(values(t), std::vector<double>(static_cast<std::size_t>(t.numel()), expected), 0, 0);
  }
  // to(float64) converts the statistics and keeps the counter int64.
  bn->to(kF64);
  CHECK(buffer(*bn, "running_var").dtype() == kF64);
  CHECK(buffer(*bn, "num_batches_tracked").dtype() == loom::DType::Int64);
}

TEST_CASE("bad configs name the layer and the option") {
  auto error = [](const char* type, const char* config) {
    return message_of<loom::ValueError>([&] { build(type, config); });
  };
  CHECK(contains(error("batch_norm2d", "{}"), "num_features"));
  CHECK(contains(error("batch_norm2d", R"({"num_features": 3, "momentum": "fast"})"), "momentum"));
  CHECK(contains(error("batch_norm1d", R"({"num_features": 3, "momentum": 1.5})"), "BatchNorm1d: momentum"));
  CHECK(contains(error("group_norm", R"({"num_groups": 4, "num_channels": 6})"), "GroupNorm"));
  CHECK(contains(error("layer_norm", R"({"normalized_shape": [4, 0]})"), "LayerNorm"));
  CHECK(contains(error("upsample", R"({"size": 4, "scale_factor": 2})"), "either size or scale_factor"));
  CHECK(contains(error("upsample", R"({"scale_factor": 2, "align_corners": true})"), "align_corners"));
  CHECK(contains(error("upsample", R"({"size": 4, "mode": "bicubic"})"), "mode"));
  CHECK(contains(error("upsample", R"({"scale_factor": "twice"})"), "scale_factor"));
  CHECK(contains(error("adaptive_avg_pool2d", R"({"output_size": [1, 2, 3]})"), "output_size"));
  CHECK(contains(error("instance_norm2d", R"({"num_features": 3, "affine": 1})"), "affine"));
}

TEST_CASE("bad inputs name the layer, what it expected and what it found") {
  loom::nn::BatchNorm2d bn2(3);
  std::string m = message_of<loom::ShapeError>([&] { bn2(loom::zeros({2, 3})); });
  CHECK(contains(m, "BatchNorm2d"));
  CHECK(contains(m, "4-D"));
  m = message_of<loom::ShapeError>([&] { bn2(loom::zeros({2, 4, 3, 3})); });
  CHECK(contains(m, "BatchNorm2d: expected 3 channels"));
  CHECK(contains(m, "found 4"));
  loom::nn::BatchNorm1d bn1(3);
  CHECK(contains(message_of<loom::ShapeError>([&] { bn1(loom::zeros({2, 3, 4, 4})); }), "BatchNorm1d"));
  // One value per channel: no variance to normalise by (as PyTorch).
  CHECK(contains(message_of<loom::ValueError>([&] { bn1(loom::zeros({1, 3})); }), "more than 1 value per channel"));
  CHECK(bn1.num_batches_tracked.item<std::int64_t>() == 0);  // the failed step did not count
  CHECK(contains(message_of<loom::DTypeError>([&] { bn1(loom::zeros({2, 3}, loom::DType::Int64)); }), "floating"));
  loom::nn::GroupNorm gn(2, 4);
  CHECK(contains(message_of<loom::ShapeError>([&] { gn(loom::zeros({2, 6, 3})); }), "GroupNorm: expected 4 channels"));
  CHECK(contains(message_of<loom::ValueError>([&] { F::group_norm(loom::zeros({2, 6, 3}), 4); }), "num_groups"));
  loom::nn::LayerNorm ln({.normalized_shape = {4, 5}});
  m = message_of<loom::ShapeError>([&] { ln(loom::zeros({2, 5, 4})); });
  CHECK(contains(m, "LayerNorm"));
  CHECK(contains(m, "(4, 5)"));
  loom::nn::InstanceNorm2d in({.num_features = 3, .affine = true});
  CHECK(contains(message_of<loom::ShapeError>([&] { in(loom::zeros({2, 5, 4, 4})); }), "InstanceNorm2d: expected 3"));
  CHECK(contains(message_of<loom::ShapeError>([&] { in(loom::zeros({2, 3, 4, 4, 4})); }), "InstanceNorm2d"));
  loom::nn::Upsample up({.scale_factor = {2}});
  CHECK(contains(message_of<loom::ShapeError>([&] { up(loom::zeros({2, 3, 4})); }), "Upsample: expected a 4-D"));
  loom::nn::AdaptiveAvgPool2d pool({2});
  CHECK(contains(message_of<loom::ShapeError>([&] { pool(loom::zeros({4, 4})); }), "AdaptiveAvgPool2d"));
  // The functional form names the function and the tensor.
  CHECK(contains(message_of<loom::ValueError>([&] { F::batch_norm(loom::zeros({2, 3}), {}, {}); }),
                 "running_mean and running_var"));
  CHECK(contains(message_of<loom::ShapeError>([&] {
                   F::batch_norm(loom::zeros({2, 3}), {}, {}, loom::ones({4}), {}, true);
                 }),
                 "weight of shape (3)"));
}

TEST_CASE("the statistics update records nothing and gradients reach the input") {
  loom::nn::BatchNorm1d bn(2);
  const loom::Tensor x = loom::tensor({{1.0, 2.0}, {3.0, 7.0}, {-1.0, 0.5}}).requires_grad_(true);
  const loom::Tensor y = bn(x);
  CHECK(bn.running_mean.grad_fn() == nullptr);
  CHECK_FALSE(bn.running_var.requires_grad());
  y.sum().backward();
  // d(sum of a standardised channel)/dx = 0 (the mean removes it), the bias gets N.
  check_close(values(x.grad()), std::vector<double>(6, 0.0), 0, 1e-5);
  check_close(values(bn.bias.grad()), {3, 3}, 0, 1e-6);
}

// ---- gradcheck -----------------------------------------------------------------------------------------
TEST_SUITE("gradcheck") {

namespace {

// N(0, 1) · 1.5 + 0.2 in float64.
loom::Tensor input(const loom::Shape& shape, std::uint64_t seed) {
  loom::manual_seed(seed);
  return loom::randn(shape, kF64) * 1.5 + 0.2;
}

// Random affine parameters, so the check does not run at weight 1, bias 0 only.
void randomise_parameters(loom::nn::Module& m, std::uint64_t seed) {
  loom::manual_seed(seed);
  loom::NoGradGuard no_grad;
  for (loom::Tensor p : m.parameters()) p.copy_(loom::randn(p.sizes(), kF64) * 0.5 + 1.0);
}

loom::autograd::GradcheckResult check_layer(loom::nn::Module& m, loom::Tensor x) {
  loom::TensorList inputs{x.requires_grad_(true)};
  for (const loom::Tensor& p : m.parameters()) inputs.push_back(p);
  return loom::autograd::gradcheck([&m](const loom::TensorList& in) -> loom::TensorList { return {m(in[0])}; }, inputs);
}

}  // namespace

TEST_CASE("float64 gradcheck of every layer wrt its input and affine parameters") {
  struct Row {
    const char* type;
    const char* config;
    loom::Shape shape;
    bool train = true;
  };
  const std::vector<Row> rows = {
      {"batch_norm1d", R"({"num_features": 3})", {4, 3}},
      {"batch_norm1d", R"({"num_features": 3, "momentum": null})", {2, 3, 4}},
      {"batch_norm2d", R"({"num_features": 2, "eps": 0.01})", {3, 2, 2, 3}},
      {"batch_norm2d", R"({"num_features": 2})", {3, 2, 2, 3}, false},
      {"layer_norm", R"({"normalized_shape": [3, 4]})", {2, 3, 4}},
      {"group_norm", R"({"num_groups": 2, "num_channels": 4})", {2, 4, 3}},
      {"instance_norm2d", R"({"num_features": 2, "affine": true})", {2, 2, 3, 3}},
      {"instance_norm2d", R"({"num_features": 2, "affine": true, "track_running_stats": true})", {2, 2, 3, 3}, false},
      {"upsample", R"({"scale_factor": 2})", {1, 2, 2, 3}},
      {"upsample", R"({"size": [4, 5], "mode": "bilinear", "align_corners": true})", {1, 2, 3, 3}},
      {"upsample", R"({"size": [5, 4], "mode": "bilinear"})", {2, 1, 3, 3}},
      {"adaptive_avg_pool2d", R"({"output_size": [3, 2]})", {1, 2, 5, 5}},
  };
  std::set<std::string> covered;
  for (const Row& row : rows) {
    CAPTURE(row.type);
    CAPTURE(row.config);
    covered.insert(row.type);
    auto m = build(row.type, row.config);
    m->to(kF64);
    randomise_parameters(*m, 11);
    m->train(row.train);
    const auto result = check_layer(*m, input(row.shape, 12));
    INFO(result.report);
    CHECK(result.ok);
  }
  CHECK(covered.size() == 7);
}

TEST_CASE("gradgradcheck of batch norm in training mode (and of layer and group norm)") {
  const loom::Tensor w = loom::tensor({1.3, 0.7, -0.4}, kF64).requires_grad_(true);
  const loom::Tensor b = loom::tensor({0.1, -0.2, 0.3}, kF64).requires_grad_(true);
  const loom::Tensor x = input({4, 3, 2}, 21).requires_grad_(true);
  const loom::Tensor running_mean = loom::zeros({3}, kF64), running_var = loom::ones({3}, kF64);
  auto bn = [&](const loom::TensorList& in) -> loom::TensorList {
    return {F::batch_norm(in[0], running_mean, running_var, in[1], in[2], true, 0.1, 1e-3)};
  };
  auto result = loom::autograd::gradgradcheck(bn, {x, w, b});
  INFO(result.report);
  CHECK(result.ok);
  auto ln = [](const loom::TensorList& in) -> loom::TensorList { return {F::layer_norm(in[0], {2}, in[1], in[2])}; };
  const loom::Tensor lw = loom::tensor({0.8, 1.2}, kF64).requires_grad_(true);
  const loom::Tensor lb = loom::tensor({0.5, -0.5}, kF64).requires_grad_(true);
  result = loom::autograd::gradgradcheck(ln, {input({3, 2}, 22).requires_grad_(true), lw, lb});
  INFO(result.report);
  CHECK(result.ok);
  auto gn = [](const loom::TensorList& in) -> loom::TensorList { return {F::group_norm(in[0], 2, in[1])}; };
  result = loom::autograd::gradgradcheck(
      gn, {input({2, 4, 2}, 23).requires_grad_(true), loom::tensor({1.0, 0.5, 2.0, -1.0}, kF64).requires_grad_(true)});
  INFO(result.report);
  CHECK(result.ok);
}

TEST_CASE("gradcheck catches a batch norm that treats its statistics as constants") {
  auto detached = [](const loom::TensorList& in) -> loom::TensorList {
    const loom::Tensor mu = loom::mean(in[0], {0}, true).detach();
    const loom::Tensor var = loom::var(in[0], {0}, false, true).detach();
    return {(in[0] - mu) * loom::rsqrt(var + 1e-5)};
  };
  const auto result = loom::autograd::gradcheck(detached, {input({4, 3}, 31).requires_grad_(true)});
  CHECK_FALSE(result.ok);
}

}  // TEST_SUITE("gradcheck")
