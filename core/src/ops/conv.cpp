// Convolutions (conv2d, conv1d, conv_transpose2d and conv2d's weight gradient as an op), the family
// in one place: the forward in loom::raw (validation, output sizes, backend calls; output sizes and
// layout in ops/spatial.hpp), then the public ops with their gradient rules. Writing conv(x, w) for
// conv2d, T(y, w) for its input gradient (the transposed convolution) and Wg(dout, x) for its weight
// gradient, all three are bilinear and adjoint to each other:
//   ⟨conv(x, w), g⟩ = ⟨x, T(g, w)⟩ = ⟨w, Wg(g, x)⟩
// so each one's gradients are the other two, and create_graph differentiates to any order.
#include "loom/nn/functional/conv.hpp"

#include "autograd/rules.hpp"
#include "ops/spatial.hpp"

// ==== forward: validation and the backend call ====================================================
namespace loom::raw {

using detail::backend_checked;
using detail::channels_last;
using detail::check_floating_4d;
using detail::check_same_dtype;
using detail::empty_channels_last;
using detail::make_tensor;
using detail::output_size;
using detail::zeros_channels_last;

namespace {

Shape conv_output_sizes(std::string_view op, const Shape& x, const Shape& w, const Conv2dParams& p) {
  const std::int64_t g = p.groups;
  LOOM_CHECK(g >= 1, ValueError, "{}: groups must be ≥ 1, found {}", op, g);
  LOOM_CHECK(x[1] % g == 0 && w[0] % g == 0, ValueError,
             "{}: groups = {} must divide the input channels ({}) and the output channels ({})", op, g, x[1], w[0]);
  LOOM_CHECK(w[1] * g == x[1], ShapeError,
             "{}: the input has {} channels but the weight {} expects {} (weight is (out, in/groups, kH, kW), "
             "groups = {})",
             op, x[1], w.str(), w[1] * g, g);
  return {x[0], w[0], output_size(op, "H", x[2], w[2], p.stride[0], p.padding[0], p.dilation[0]),
          output_size(op, "W", x[3], w[3], p.stride[1], p.padding[1], p.dilation[1])};
}

void check_conv_operands(std::string_view op, const Tensor& x, const char* x_name, const Tensor& w) {
  check_floating_4d(op, x_name, x);
  check_floating_4d(op, "weight", w);
  check_same_dtype(op, x, w);
}

}  // namespace

Shape conv2d_output_sizes(std::string_view op, const Shape& x, const Shape& w, const Conv2dParams& p) {
  return conv_output_sizes(op, x, w, p);
}

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p, std::string_view op) {
  check_conv_operands(op, x, "input", w);
  if (bias.defined()) {
    check_same_dtype(op, x, bias);
    LOOM_CHECK(bias.dim() == 1 && bias.size(0) == w.size(0), ShapeError,
               "{}: expected a bias of shape ({}), found {}", op, w.size(0), bias.sizes().str());
  }
  const Shape out_sizes = conv_output_sizes(op, x.sizes(), w.sizes(), p);
  if (x.numel() == 0 || w.numel() == 0) {  // no product reaches out: the bias alone, or zeros
    Tensor out = zeros_channels_last(out_sizes, x);
    return bias.defined() && out.numel() > 0 ? raw::add(out, bias.view({1, w.size(0), 1, 1})) : out;
  }
  Tensor out = empty_channels_last(out_sizes, x);
  backend_checked(Op::conv2d, x.device(), x.dtype()).conv2d(out, channels_last(x), w, bias, p);
  return out;
}

Tensor conv2d_backward_data(const Tensor& dout, const Tensor& w, const Shape& input_sizes, const Conv2dParams& p,
                            std::string_view op) {
  check_conv_operands(op, dout, "grad_output", w);
  LOOM_CHECK(input_sizes.size() == 4, ShapeError, "{}: expected a 4-D input size, found {}", op, input_sizes.str());
  const Shape expected = conv_output_sizes(op, input_sizes, w.sizes(), p);
  LOOM_CHECK(dout.sizes() == expected, ShapeError,
             "{}: an input of shape {} gives a convolution output of shape {}, found {}", op, input_sizes.str(),
             expected.str(), dout.sizes().str());
  if (dout.numel() == 0 || w.numel() == 0) return zeros_channels_last(input_sizes, dout);
  Tensor dx = empty_channels_last(input_sizes, dout);
  if (dx.numel() > 0)
    backend_checked(Op::conv2d_backward_data, dout.device(), dout.dtype()).conv2d_backward_data(dx, channels_last(dout), w, p);
  return dx;
}

namespace {

// dw (and dbias when `with_bias`) of conv2d; the errors name `op`.
ConvWeightBiasGrads weight_grads(const Tensor& dout, const Tensor& x, const Shape& weight_sizes, const Conv2dParams& p,
                                 std::string_view op, bool with_bias) {
  check_floating_4d(op, "grad_output", dout);
  check_floating_4d(op, "input", x);
  check_same_dtype(op, x, dout);
  LOOM_CHECK(weight_sizes.size() == 4, ShapeError, "{}: expected a 4-D weight size, found {}", op, weight_sizes.str());
  const Shape expected = conv_output_sizes(op, x.sizes(), weight_sizes, p);
  LOOM_CHECK(dout.sizes() == expected, ShapeError,
             "{}: an input of shape {} and a weight of shape {} give an output of shape {}, found {}", op,
             x.sizes().str(), weight_sizes.str(), expected.str(), dout.sizes().str());
  ConvWeightBiasGrads r{make_tensor(weight_sizes, x.dtype(), x.device()),
                        with_bias ? make_tensor(Shape{weight_sizes[0]}, x.dtype(), x.device()) : Tensor()};
  if (r.dw.numel() == 0 && (!with_bias || r.dbias.numel() == 0)) return r;
  Backend& backend = backend_checked(Op::conv2d_backward_weight, x.device(), x.dtype());
  if (dout.numel() == 0 || x.numel() == 0) {
    backend.fill(r.dw, 0);
    if (with_bias) backend.fill(r.dbias, 0);
    return r;
  }
  backend.conv2d_backward_weight(r.dw, r.dbias, channels_last(dout), channels_last(x), p);
  return r;
}

}  // namespace

Tensor conv2d_backward_weight(const Tensor& dout, const Tensor& x, const Shape& weight_sizes, const Conv2dParams& p,
                              std::string_view op) {
  return weight_grads(dout, x, weight_sizes, p, op, false).dw;
}

ConvWeightBiasGrads conv2d_backward_weight_bias(const Tensor& dout, const Tensor& x, const Shape& weight_sizes,
                                                const Conv2dParams& p) {
  return weight_grads(dout, x, weight_sizes, p, "conv2d_weight_grad", true);
}

}  // namespace loom::raw

// ==== public ops and their gradient rules =========================================================
namespace loom::nn::functional {

using loom::detail::batched;

namespace {

Conv2dParams conv_params(const Size2& stride, const Size2& padding, const Size2& dilation, std::int64_t groups) {
  Conv2dParams p;
  for (int a = 0; a < 2; ++a) p.stride[a] = stride[a], p.padding[a] = padding[a], p.dilation[a] = dilation[a];
  p.groups = groups;
  return p;
}
Conv2dParams conv_params(const Conv2dFuncOptions& o) { return conv_params(o.stride, o.padding, o.dilation, o.groups); }

Tensor conv(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p, std::string_view op);
Tensor conv_input_grad(const Tensor& y, const Tensor& w, const Shape& out_sizes, const Conv2dParams& p,
                       std::string_view op);
Tensor conv_weight_grad(const Tensor& dout, const Tensor& x, const Shape& w_sizes, const Conv2dParams& p);

// conv(x, w) + bias: dx = T(g, w), dw = Wg(g, x), dbias = Σ g over (N, H, W). Without
// create_graph, dw and dbias come from one backend call (oneDNN sums the bias gradient while it
// computes the weight gradient: LeNet's bias sums cost more than that otherwise).
Tensor conv(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p, std::string_view op) {
  SavedTensor sx(w.defined() && w.requires_grad() ? x : Tensor(), false);
  SavedTensor sw(x.defined() && x.requires_grad() ? w : Tensor(), false);
  const bool bias_grad = bias.defined() && bias.requires_grad();
  return differentiable(
      GradOp::conv2d, {x, w, bias}, [&] { return raw::conv2d(x, w, bias, p, op); },
      [sx, sw, p, bias_grad, ix = InputGeometry(x), iw = InputGeometry(w)](const TensorList& g) -> TensorList {
        const Tensor dx = ix.needs_grad ? conv_input_grad(g[0], sw.unpack("conv2d"), ix.sizes, p, "conv2d") : Tensor();
        if (iw.needs_grad && bias_grad && !is_grad_enabled()) {
          raw::ConvWeightBiasGrads d = raw::conv2d_backward_weight_bias(g[0], sx.unpack("conv2d"), iw.sizes, p);
          return {dx, d.dw, d.dbias};
        }
        return {dx, iw.needs_grad ? conv_weight_grad(g[0], sx.unpack("conv2d"), iw.sizes, p) : Tensor(),
                bias_grad ? sum(g[0], {0, 2, 3}) : Tensor()};
      });
}

// T(y, w) into an output of out_sizes: dy = conv(g, w), dw = Wg(y, g).
Tensor conv_input_grad(const Tensor& y, const Tensor& w, const Shape& out_sizes, const Conv2dParams& p,
                       std::string_view op) {
  SavedTensor sy(w.defined() && w.requires_grad() ? y : Tensor(), false);
  SavedTensor sw(y.defined() && y.requires_grad() ? w : Tensor(), false);
  return differentiable(
      GradOp::conv_transpose2d, {y, w}, [&] { return raw::conv2d_backward_data(y, w, out_sizes, p, op); },
      [sy, sw, p, iy = InputGeometry(y), iw = InputGeometry(w)](const TensorList& g) -> TensorList {
        return {iy.needs_grad ? conv(g[0], sw.unpack("conv_transpose2d"), Tensor(), p, "conv_transpose2d") : Tensor(),
                iw.needs_grad ? conv_weight_grad(sy.unpack("conv_transpose2d"), g[0], iw.sizes, p) : Tensor()};
      });
}

// Wg(dout, x): d dout = conv(x, g), dx = T(dout, g).
Tensor conv_weight_grad(const Tensor& dout, const Tensor& x, const Shape& w_sizes, const Conv2dParams& p) {
  SavedTensor sd(x.defined() && x.requires_grad() ? dout : Tensor(), false);
  SavedTensor sx(dout.defined() && dout.requires_grad() ? x : Tensor(), false);
  return differentiable(
      GradOp::conv2d_weight_grad, {dout, x}, [&] { return raw::conv2d_backward_weight(dout, x, w_sizes, p); },
      [sd, sx, p, id = InputGeometry(dout), ix = InputGeometry(x)](const TensorList& g) -> TensorList {
        return {id.needs_grad ? conv(sx.unpack("conv2d_weight_grad"), g[0], Tensor(), p, "conv2d_weight_grad") : Tensor(),
                ix.needs_grad ? conv_input_grad(sd.unpack("conv2d_weight_grad"), g[0], ix.sizes, p, "conv2d_weight_grad")
                              : Tensor()};
      });
}

// PyTorch's padding="same": (top/left, bottom/right) padding per axis for stride 1.
std::pair<Size2, Size2> same_padding(std::string_view op, const Size2& stride, const Size2& dilation, std::int64_t kh,
                                     std::int64_t kw) {
  LOOM_CHECK(stride[0] == 1 && stride[1] == 1, ValueError,
             "{}: padding 'same' needs stride 1, found stride ({}, {})", op, stride[0], stride[1]);
  const Size2 total{dilation[0] * (kh - 1), dilation[1] * (kw - 1)};
  const Size2 low{total[0] / 2, total[1] / 2};
  return {low, {total[0] - low[0], total[1] - low[1]}};
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dFuncOptions& options) {
  return batched(x, "conv2d", [&](const Tensor& x4) {
    LOOM_CHECK(weight.defined() && weight.dim() == 4, ShapeError,
               "conv2d: expected a 4-D weight (out, in/groups, kH, kW), found {}",
               weight.defined() ? weight.sizes().str() : std::string("undefined"));
    if (!options.same_padding) return conv(x4, weight, bias, conv_params(options), "conv2d");
    const auto [low, high] = same_padding("conv2d", options.stride, options.dilation, weight.size(2), weight.size(3));
    Conv2dParams p = conv_params(options.stride, low, options.dilation, options.groups);
    // An odd total padding: the extra row and column go at the bottom and right (as PyTorch).
    const Tensor padded = low == high ? x4 : pad(x4, {0, high[1] - low[1], 0, high[0] - low[0]});
    return conv(padded, weight, bias, p, "conv2d");
  });
}

Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv1dFuncOptions& o) {
  LOOM_CHECK(x.defined() && (x.dim() == 2 || x.dim() == 3), ShapeError,
             "conv1d: expected a (N, C, L) or (C, L) input, found {}", x.defined() ? x.sizes().str() : "undefined");
  LOOM_CHECK(weight.defined() && weight.dim() == 3, ShapeError, "conv1d: expected a 3-D weight (out, in/groups, K), found {}",
             weight.defined() ? weight.sizes().str() : std::string("undefined"));
  Conv2dFuncOptions o2;
  o2.stride = {1, o.stride};
  o2.padding = {0, o.padding};
  o2.dilation = {1, o.dilation};
  o2.groups = o.groups;
  o2.same_padding = o.same_padding;
  const Tensor x3 = x.dim() == 2 ? x.unsqueeze(0) : x;
  Tensor y = conv2d(x3.unsqueeze(2), weight.unsqueeze(2), bias, o2).squeeze(2);
  return x.dim() == 2 ? y.squeeze(0) : y;
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvTranspose2dFuncOptions& o) {
  return batched(x, "conv_transpose2d", [&](const Tensor& x4) {
    LOOM_CHECK(weight.defined() && weight.dim() == 4, ShapeError,
               "conv_transpose2d: expected a 4-D weight (in, out/groups, kH, kW), found {}",
               weight.defined() ? weight.sizes().str() : std::string("undefined"));
    LOOM_CHECK(o.groups >= 1 && x4.size(1) == weight.size(0), ShapeError,
               "conv_transpose2d: the input has {} channels but the weight {} expects {} (weight is "
               "(in, out/groups, kH, kW))",
               x4.size(1), weight.sizes().str(), weight.size(0));
    Shape out_sizes{x4.size(0), weight.size(1) * o.groups, 0, 0};
    for (int a = 0; a < 2; ++a) {
      LOOM_CHECK(o.stride[a] >= 1, ValueError, "conv_transpose2d: stride must be ≥ 1, found {}", o.stride[a]);
      LOOM_CHECK(o.output_padding[a] >= 0 && o.output_padding[a] < o.stride[a], ValueError,
                 "conv_transpose2d: output_padding must be in [0, stride), found {} with stride {}", o.output_padding[a],
                 o.stride[a]);
      out_sizes[2 + a] = (x4.size(2 + a) - 1) * o.stride[a] - 2 * o.padding[a] +
                         o.dilation[a] * (weight.size(2 + a) - 1) + o.output_padding[a] + 1;
      LOOM_CHECK(out_sizes[2 + a] >= 1, ShapeError,
                 "conv_transpose2d: input {} with kernel {}, stride {} and padding {} gives an empty output",
                 x4.sizes().str(), weight.sizes().str(), o.stride[a], o.padding[a]);
    }
    Tensor y = conv_input_grad(x4, weight, out_sizes, conv_params(o.stride, o.padding, o.dilation, o.groups),
                               "conv_transpose2d");
    if (!bias.defined()) return y;
    LOOM_CHECK(bias.dim() == 1 && bias.size(0) == out_sizes[1], ShapeError,
               "conv_transpose2d: expected a bias of shape ({}), found {}", out_sizes[1], bias.sizes().str());
    return y + bias.view({1, out_sizes[1], 1, 1});
  });
}

Tensor conv2d_weight_grad(const Tensor& grad_output, const Tensor& x, const Shape& weight_sizes,
                          const Conv2dFuncOptions& options) {
  return conv_weight_grad(grad_output, x, weight_sizes, conv_params(options));
}

}  // namespace loom::nn::functional
