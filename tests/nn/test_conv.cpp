// Convolution and pooling layers: COURSE.md examples 6, 7 and 8, values against a naive
// convolution written here, channels-last activations, registry builds and errors.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "helpers.hpp"
#include "loom/autograd.hpp"
#include "loom/error.hpp"
#include "loom/nn/conv.hpp"
#include "loom/nn/functional/conv.hpp"
#include "loom/nn/functional/pooling.hpp"
#include "loom/nn/pooling.hpp"
#include "loom/nn/registry.hpp"
#include "loom/random.hpp"

using loom::Shape;
using loom::Tensor;
using loom_nn_test::check_close;
using loom_nn_test::contains;
using loom_nn_test::message_of;
using loom_nn_test::values;
namespace F = loom::nn::functional;

namespace {

// out[n][o][i][j] = b[o] + Σ x[n][g·Cg + c][i·s − p + kh·d][j·s − p + kw·d] · w[o][c][kh][kw]
std::vector<double> naive_conv2d(const Tensor& x, const Tensor& w, const Tensor& b, std::int64_t s, std::int64_t p,
                                 std::int64_t d, std::int64_t groups) {
  const auto xv = values(x), wv = values(w);
  const auto bv = b.defined() ? values(b) : std::vector<double>(static_cast<std::size_t>(w.size(0)), 0.0);
  const std::int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const std::int64_t O = w.size(0), Cg = w.size(1), K = w.size(2), Og = O / groups;
  const std::int64_t OH = (H + 2 * p - d * (K - 1) - 1) / s + 1, OW = (W + 2 * p - d * (K - 1) - 1) / s + 1;
  std::vector<double> out;
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t o = 0; o < O; ++o)
      for (std::int64_t i = 0; i < OH; ++i)
        for (std::int64_t j = 0; j < OW; ++j) {
          double acc = bv[static_cast<std::size_t>(o)];
          for (std::int64_t c = 0; c < Cg; ++c)
            for (std::int64_t kh = 0; kh < K; ++kh)
              for (std::int64_t kw = 0; kw < K; ++kw) {
                const std::int64_t h = i * s - p + kh * d, ww = j * s - p + kw * d;
                if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
                acc += xv[static_cast<std::size_t>(((n * C + (o / Og) * Cg + c) * H + h) * W + ww)] *
                       wv[static_cast<std::size_t>(((o * Cg + c) * K + kh) * K + kw)];
              }
          out.push_back(acc);
        }
  return out;
}

const std::vector<double> kPoolInput = {3, 1, 3, 5, 6, 0, 7, 9, 3, 2, 1, 4, 0, 2, 4, 3};

}  // namespace

TEST_SUITE("conv") {

TEST_CASE("COURSE example 6: 26x26x26 input, 5 filters, kernel 7, stride 3, padding 1 -> 5x8x8") {
  loom::nn::Conv2d conv({.in_channels = 26, .out_channels = 5, .kernel_size = {7, 7}, .stride = {3, 3}, .padding = {1, 1}});
  const Tensor y = conv.forward(loom::randn({1, 26, 26, 26}));
  CHECK(y.sizes() == Shape{1, 5, 8, 8});
  CHECK(conv.forward(loom::randn({26, 26, 26})).sizes() == Shape{5, 8, 8});  // unbatched
}

TEST_CASE("COURSE example 7: 2x2 stride-2 pooling, backward routes to the argmax only") {
  const Tensor x = loom::from_vector(kPoolInput, {1, 1, 4, 4}).requires_grad_();
  loom::nn::MaxPool2d max_pool(2);
  const Tensor m = max_pool.forward(x);
  check_close(values(m), {6, 9, 3, 4}, 0, 0);
  loom::nn::AvgPool2d avg_pool(2, 2);
  check_close(values(avg_pool.forward(x)), {2.5, 6, 1.75, 3}, 0, 1e-7);
  m.backward(loom::from_vector(std::vector<double>{1, 2, 3, 4}, {1, 1, 2, 2}));
  check_close(values(x.grad()), {0, 0, 0, 0, 1, 0, 0, 2, 3, 0, 0, 4, 0, 0, 0, 0}, 0, 0);
}

TEST_CASE("max pooling ties route the gradient to the first maximum in row-major order") {
  const Tensor x = loom::from_vector(std::vector<double>{1, 5, 5, 5}, {1, 1, 2, 2}).requires_grad_();
  loom::sum(F::max_pool2d(x)).backward();
  check_close(values(x.grad()), {0, 1, 0, 0}, 0, 0);
  const auto r = F::max_pool2d_with_indices(x);
  CHECK(values(r.indices) == std::vector<double>{1});
}

TEST_CASE("float32 channels-last max pooling (oneDNN's path) keeps NaN, -inf and ties as the contract") {
  // (1, 6, 4, 4) with a 2x2 window per channel of interest at the top left; the fast float32
  // path hands channels-last inputs to oneDNN, which skips NaN and starts from -FLT_MAX.
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> planes(6 * 16, 0.0f);
  auto at = [&](int c, int h, int w) -> float& { return planes[std::size_t(c * 16 + h * 4 + w)]; };
  at(0, 0, 1) = 5, at(0, 1, 0) = 5;                                           // a tie: the first in row-major order
  for (int h = 0; h < 2; ++h)
    for (int w = 0; w < 2; ++w) at(2, h, w) = -inf;                           // all -inf
  at(3, 1, 1) = 7;
  at(4, 0, 0) = std::numeric_limits<float>::lowest(), at(4, 0, 1) = -inf;     // -FLT_MAX is a true maximum
  at(4, 1, 0) = -inf, at(4, 1, 1) = -inf;
  for (bool with_nan : {false, true}) {
    CAPTURE(with_nan);
    if (with_nan) at(1, 1, 1) = nan, at(1, 0, 0) = 3;                         // NaN propagates
    const Tensor x = loom::from_vector(planes, {1, 6, 4, 4}).contiguous(loom::MemoryFormat::ChannelsLast);
    const auto r = F::max_pool2d_with_indices(x);
    const std::vector<double> top_left = values(r.values.select(2, 0).select(2, 0));
    const std::vector<double> where = values(r.indices.select(2, 0).select(2, 0));
    CHECK(top_left[0] == 5);
    CHECK(where[0] == 1);
    if (with_nan) {
      CHECK(std::isnan(top_left[1]));
      CHECK(where[1] == 5);
    } else {
      CHECK(top_left[1] == 0);
      CHECK(where[1] == 0);
    }
    CHECK(top_left[2] == -inf);
    CHECK(where[2] == 0);
    CHECK(top_left[3] == 7);
    CHECK(where[3] == 5);
    CHECK(top_left[4] == std::numeric_limits<float>::lowest());
    CHECK(where[4] == 0);
    // The same pooled in float64 (the reference kernels) agrees everywhere.
    const auto d = F::max_pool2d_with_indices(x.to(loom::DType::Float64));
    CHECK(values(d.indices) == values(r.indices));
  }
}

TEST_CASE("float32 channels-last average pooling (oneDNN's path) matches float64, ceil mode and padding included") {
  const Tensor x64 = loom::randn({2, 5, 7, 6}, loom::DType::Float64).requires_grad_();
  const Tensor x32 =
      x64.detach().to(loom::DType::Float32).contiguous(loom::MemoryFormat::ChannelsLast).requires_grad_();
  REQUIRE(x32.is_contiguous(loom::MemoryFormat::ChannelsLast));
  for (bool include_pad : {true, false})
    for (bool ceil : {false, true}) {
      CAPTURE(include_pad);
      CAPTURE(ceil);
      const F::AvgPool2dFuncOptions o{.kernel_size = {3, 3}, .stride = {2, 2}, .padding = {1, 1},
                                      .count_include_pad = include_pad, .ceil_mode = ceil};
      const Tensor y32 = F::avg_pool2d(x32, o), y64 = F::avg_pool2d(x64, o);
      check_close(values(y32), values(y64), 1e-5, 1e-6);
      const Tensor g = loom::randn(y64.sizes(), loom::DType::Float64);
      x32.set_grad(Tensor());
      x64.set_grad(Tensor());
      y32.backward(g.to(loom::DType::Float32).contiguous(loom::MemoryFormat::ChannelsLast));
      y64.backward(g);
      check_close(values(x32.grad()), values(x64.grad()), 1e-5, 1e-6);
    }
}

TEST_CASE("ceil_mode: the partial last window, PyTorch's drop rule, and avg's divisors") {
  const Tensor x = loom::arange(0, 25, 1, loom::DType::Float64).reshape({1, 1, 5, 5});
  // 5 = 2·2 + 1: floor leaves the last row and column out, ceil pools them alone.
  CHECK(F::max_pool2d(x, {.kernel_size = {2, 2}}).sizes() == Shape{1, 1, 2, 2});
  check_close(values(F::max_pool2d(x, {.kernel_size = {2, 2}, .ceil_mode = true})),
              {6, 8, 9, 16, 18, 19, 21, 23, 24}, 0, 0);
  // Without padding the divisor is clipped to the input: the corner window averages one value.
  check_close(values(F::avg_pool2d(x, {.kernel_size = {2, 2}, .ceil_mode = true})),
              {3, 5, 6.5, 13, 15, 16.5, 20.5, 22.5, 24}, 0, 1e-12);
  // An extra window that would start in the right padding is dropped: H = 5 gives 2 windows
  // (the third would start at row 5, in the padding), W = 6 gives 3.
  const Tensor y = loom::randn({1, 2, 5, 6});
  CHECK(F::max_pool2d(y, {.kernel_size = {3, 3}, .stride = {3, 3}, .padding = {1, 1}, .ceil_mode = true}).sizes() ==
        Shape{1, 2, 2, 3});
  // count_include_pad divides a partial window by its part inside the padded input: the window
  // of out[3][0] covers rows 5..7 and columns −1..1 of a 6x4 input with padding 1, so 2 x 3 = 6
  // (rows 5 and 6, columns −1..1), of which 1 x 2 ones are inside.
  const Tensor ones = loom::ones({1, 1, 6, 4}, loom::DType::Float64);
  const F::AvgPool2dFuncOptions ceil{.kernel_size = {3, 3}, .stride = {2, 2}, .padding = {1, 1}, .ceil_mode = true};
  const Tensor avg = F::avg_pool2d(ones, ceil);
  REQUIRE(avg.sizes() == Shape{1, 1, 4, 3});
  CHECK(avg.select(2, 3).select(2, 0).item<double>() == doctest::Approx(2.0 / 6));
  F::AvgPool2dFuncOptions ceil_inside = ceil;
  ceil_inside.count_include_pad = false;
  check_close(values(F::avg_pool2d(ones, ceil_inside)), std::vector<double>(12, 1.0), 0, 1e-12);
  // The modules and their backward agree on the sizes.
  loom::nn::AvgPool2d pool(ceil);
  const Tensor z = loom::randn({2, 3, 6, 4}).requires_grad_();
  loom::sum(pool.forward(z)).backward();
  CHECK(z.grad().sizes() == z.sizes());
  CHECK(pool.extra_repr() == "kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), ceil_mode=true");
}

TEST_CASE("gradgradcheck of avg and max pooling in ceil_mode") {
  const Tensor x = loom::randn({1, 2, 5, 6}, loom::DType::Float64).requires_grad_();
  const F::AvgPool2dFuncOptions avg{.kernel_size = {3, 2}, .stride = {2, 2}, .padding = {1, 1}, .ceil_mode = true};
  const auto avg_fn = [&](const loom::TensorList& in) -> loom::TensorList { return {F::avg_pool2d(in[0], avg)}; };
  const auto r = loom::autograd::gradgradcheck(avg_fn, {x});
  CHECK_MESSAGE(r.ok, r.report);
  const F::MaxPool2dFuncOptions max{.kernel_size = {2, 2}, .ceil_mode = true};
  const auto max_fn = [&](const loom::TensorList& in) -> loom::TensorList { return {F::max_pool2d(in[0], max)}; };
  const auto m = loom::autograd::gradgradcheck(max_fn, {x});
  CHECK_MESSAGE(m.ok, m.report);
}

TEST_CASE("extra_repr prints dilation, output_padding, groups and bias when not default, as PyTorch") {
  CHECK(loom::nn::Conv1d({.in_channels = 2, .out_channels = 4, .kernel_size = 3}).extra_repr() ==
        "2, 4, kernel_size=3, stride=1, padding=0");
  CHECK(loom::nn::Conv1d({.in_channels = 2, .out_channels = 4, .kernel_size = 3, .dilation = 2, .groups = 2,
                          .bias = false})
            .extra_repr() == "2, 4, kernel_size=3, stride=1, padding=0, dilation=2, groups=2, bias=false");
  CHECK(loom::nn::ConvTranspose2d({.in_channels = 2, .out_channels = 4, .kernel_size = {3, 3}}).extra_repr() ==
        "2, 4, kernel_size=(3, 3), stride=(1, 1), padding=(0, 0)");
  CHECK(loom::nn::ConvTranspose2d({.in_channels = 2, .out_channels = 4, .kernel_size = {3, 2}, .stride = {2, 2},
                                   .output_padding = {1, 0}, .dilation = {2, 1}, .groups = 2, .bias = false})
            .extra_repr() ==
        "2, 4, kernel_size=(3, 2), stride=(2, 2), padding=(0, 0), dilation=(2, 1), output_padding=(1, 0), groups=2, "
        "bias=false");
  CHECK(loom::nn::MaxPool2d(2).extra_repr() == "kernel_size=(2, 2), stride=(2, 2), padding=(0, 0)");
  CHECK(loom::nn::AvgPool2d({.kernel_size = {2, 2}, .count_include_pad = false}).extra_repr() ==
        "kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), count_include_pad=false");
}

TEST_CASE("COURSE example 8: Conv2d(3, 8, 3) has 224 parameters") {
  loom::nn::Conv2d conv(3, 8, 3);
  std::int64_t count = 0;
  for (const Tensor& p : conv.parameters()) count += p.numel();
  CHECK(count == 224);
  CHECK(conv.weight.sizes() == Shape{8, 3, 3, 3});
}

TEST_CASE("conv2d matches a naive convolution (stride, padding, dilation, groups), float32 and float64") {
  loom::manual_seed(5);
  struct Case { std::int64_t s, p, d, g; };
  for (const Case c : {Case{1, 1, 1, 1}, Case{2, 1, 1, 1}, Case{1, 2, 2, 1}, Case{2, 0, 1, 2}, Case{1, 1, 1, 4}}) {
    for (const auto dtype : {loom::DType::Float32, loom::DType::Float64}) {
      INFO("stride " << c.s << ", padding " << c.p << ", dilation " << c.d << ", groups " << c.g);
      const Tensor x = loom::randn({2, 4, 9, 8}, dtype), w = loom::randn({8, 4 / c.g, 3, 3}, dtype), b = loom::randn({8}, dtype);
      const Tensor y = F::conv2d(x, w, b, {.stride = {c.s, c.s}, .padding = {c.p, c.p}, .dilation = {c.d, c.d}, .groups = c.g});
      check_close(values(y), naive_conv2d(x, w, b, c.s, c.p, c.d, c.g), 1e-4, 1e-4);
    }
  }
}

TEST_CASE("conv and pool activations are channels-last on the CPU") {
  const Tensor x = loom::randn({2, 3, 8, 8});
  loom::nn::Conv2d conv({.in_channels = 3, .out_channels = 4, .kernel_size = {3, 3}, .padding = {1, 1}});
  const Tensor y = conv.forward(x);
  CHECK(y.is_contiguous(loom::MemoryFormat::ChannelsLast));
  CHECK(F::max_pool2d(y).is_contiguous(loom::MemoryFormat::ChannelsLast));
  CHECK(F::avg_pool2d(y).is_contiguous(loom::MemoryFormat::ChannelsLast));
  // The same values whatever the input's layout.
  check_close(values(conv.forward(x.contiguous(loom::MemoryFormat::ChannelsLast))), values(y), 1e-6, 1e-6);
}

TEST_CASE("padding 'same' keeps H and W (odd and even kernels), and conv1d") {
  loom::nn::Conv2d odd({.in_channels = 2, .out_channels = 3, .kernel_size = {5, 3}, .same_padding = true});
  CHECK(odd.forward(loom::randn({1, 2, 7, 6})).sizes() == Shape{1, 3, 7, 6});
  loom::nn::Conv2d even({.in_channels = 2, .out_channels = 3, .kernel_size = {4, 2}, .same_padding = true});
  CHECK(even.forward(loom::randn({1, 2, 7, 6})).sizes() == Shape{1, 3, 7, 6});
  loom::nn::Conv1d c1({.in_channels = 2, .out_channels = 4, .kernel_size = 3, .stride = 2, .padding = 1});
  CHECK(c1.forward(loom::randn({3, 2, 10})).sizes() == Shape{3, 4, 5});
  CHECK(c1.weight.sizes() == Shape{4, 2, 3});
}

TEST_CASE("ConvTranspose2d inverts conv2d's output size and is conv2d's input gradient") {
  loom::nn::ConvTranspose2d up({.in_channels = 4, .out_channels = 2, .kernel_size = {3, 3}, .stride = {2, 2},
                                .padding = {1, 1}, .output_padding = {1, 1}});
  CHECK(up.weight.sizes() == Shape{4, 2, 3, 3});
  CHECK(up.forward(loom::randn({1, 4, 5, 5})).sizes() == Shape{1, 2, 10, 10});
  // ⟨conv(x, w), g⟩ = ⟨x, conv_transpose(g, w)⟩
  const Tensor x = loom::randn({1, 2, 10, 10}, loom::DType::Float64), w = loom::randn({4, 2, 3, 3}, loom::DType::Float64);
  const Tensor y = F::conv2d(x, w, Tensor(), {.stride = {2, 2}, .padding = {1, 1}});
  const Tensor g = loom::randn(y.sizes(), loom::DType::Float64);
  const Tensor xt = F::conv_transpose2d(g, w, Tensor(), {.stride = {2, 2}, .padding = {1, 1}, .output_padding = {1, 1}});
  CHECK(loom::sum(y * g).item<double>() == doctest::Approx(loom::sum(x * xt).item<double>()).epsilon(1e-10));
}

TEST_CASE("registry builds the conv and pool layers from JSON") {
  auto model = loom::nn::build(nlohmann::json::parse(R"({"type": "sequential", "layers": [
      {"type": "conv2d", "in_channels": 3, "out_channels": 6, "kernel_size": 5, "padding": "same"},
      {"type": "max_pool2d", "kernel_size": 2},
      {"type": "conv2d", "in_channels": 6, "out_channels": 8, "kernel_size": [3, 1], "stride": 1, "groups": 2},
      {"type": "avg_pool2d", "kernel_size": 2, "stride": 1, "count_include_pad": false},
      {"type": "conv_transpose2d", "in_channels": 8, "out_channels": 2, "kernel_size": 2, "stride": 2}]})"));
  CHECK(model->forward(loom::randn({2, 3, 12, 12})).sizes() == Shape{2, 2, 6, 10});
  auto c1 = loom::nn::build(nlohmann::json::parse(R"({"type": "conv1d", "in_channels": 2, "out_channels": 3, "kernel_size": 3})"));
  CHECK(c1->forward(loom::randn({1, 2, 8})).sizes() == Shape{1, 3, 6});
  const auto msg = message_of<loom::ValueError>([] {
    loom::nn::build(nlohmann::json::parse(R"({"type": "conv2d", "in_channels": 3, "out_channels": 6, "kernel": 3})"));
  });
  CHECK(contains(msg, "conv2d"));
  // kernel_size has no default in JSON specs (as in PyTorch).
  for (const char* spec : {R"({"type": "conv2d", "in_channels": 3, "out_channels": 6})",
                           R"({"type": "conv1d", "in_channels": 3, "out_channels": 6})",
                           R"({"type": "conv_transpose2d", "in_channels": 3, "out_channels": 6, "stride": 2})",
                           R"({"type": "max_pool2d", "stride": 2})", R"({"type": "avg_pool2d"})"}) {
    CAPTURE(spec);
    const auto json = nlohmann::json::parse(spec);
    const auto missing = message_of<loom::ValueError>([&] { loom::nn::build(json); });
    CHECK(contains(missing, json["type"].get<std::string>() + ": option 'kernel_size' is required"));
  }
}

TEST_CASE("errors name the op and the sizes") {
  const Tensor x = loom::randn({1, 3, 5, 5});
  auto big = message_of<loom::ShapeError>([&] { F::conv2d(x, loom::randn({2, 3, 9, 9}), Tensor(), {.padding = {1, 1}}); });
  CHECK(contains(big, "conv2d"));
  CHECK(contains(big, "larger than the padded input"));
  CHECK(contains(big, "7"));  // 5 + 2·1
  auto stride = message_of<loom::ValueError>([&] { F::conv2d(x, loom::randn({2, 3, 3, 3}), Tensor(), {.stride = {0, 1}}); });
  CHECK(contains(stride, "stride must be ≥ 1"));
  auto channels = message_of<loom::ShapeError>([&] { F::conv2d(x, loom::randn({2, 4, 3, 3})); });
  CHECK(contains(channels, "3 channels"));
  CHECK(contains(channels, "expects 4"));
  auto pool = message_of<loom::ShapeError>([&] { F::max_pool2d(x, {.kernel_size = {6, 6}}); });
  CHECK(contains(pool, "max_pool2d"));
  auto groups = message_of<loom::ValueError>([] { loom::nn::Conv2d({.in_channels = 3, .out_channels = 4, .groups = 2}); });
  CHECK(contains(groups, "Conv2d"));
  auto same = message_of<loom::ValueError>([&] { F::conv2d(x, loom::randn({2, 3, 3, 3}), Tensor(), {.stride = {2, 2}, .same_padding = true}); });
  CHECK(contains(same, "same"));
}

TEST_CASE("Conv2d default init is U(-1/sqrt(fan_in), 1/sqrt(fan_in))") {
  loom::manual_seed(3);
  loom::nn::Conv2d conv(16, 32, 3);
  const double bound = 1.0 / std::sqrt(16.0 * 9.0);
  for (const Tensor& t : {conv.weight, conv.bias})
    for (double v : values(t)) CHECK(std::abs(v) <= bound + 1e-7);
}

}  // TEST_SUITE
