// Gradient rules of convolution and pooling, and the functional ops they belong to. Writing
// conv(x, w) for conv2d, T(y, w) for its input gradient (the transposed convolution) and
// Wg(dout, x) for its weight gradient, all three are bilinear and adjoint to each other:
//   ⟨conv(x, w), g⟩ = ⟨x, T(g, w)⟩ = ⟨w, Wg(g, x)⟩
// so each one's gradients are the other two, and create_graph differentiates to any order.
// Max pooling's gradient scatters into the argmax positions (fused primitive without
// create_graph, scatter_add with it); average pooling and its backward are adjoint.
#include "loom/nn/functional/conv.hpp"

#include "rules.hpp"

namespace loom::nn::functional {

using autograd::differentiable;
using autograd::GradOp;
using autograd::InputGeometry;
using autograd::SavedTensor;

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

Pool2dParams avg_params(const AvgPool2dFuncOptions& o) {
  Pool2dParams p;
  for (int a = 0; a < 2; ++a) {
    p.kernel[a] = o.kernel_size[a];
    p.stride[a] = o.stride[a] == 0 ? o.kernel_size[a] : o.stride[a];
    p.padding[a] = o.padding[a];
  }
  p.count_include_pad = o.count_include_pad;
  return p;
}

Tensor avg_pool(const Tensor& x, const Pool2dParams& p, bool ceil_mode);
// The gradient of avg_pool wrt its input, as an op; its own gradient is avg_pool (adjoint).
Tensor avg_pool_backward(const Tensor& dout, const Shape& input_sizes, const Pool2dParams& p, bool ceil_mode) {
  return differentiable(
      GradOp::avg_pool2d_backward, {dout}, [&] { return raw::avg_pool2d_backward(dout, input_sizes, p, ceil_mode); },
      [p, ceil_mode](const TensorList& g) -> TensorList { return {avg_pool(g[0], p, ceil_mode)}; });
}
Tensor avg_pool(const Tensor& x, const Pool2dParams& p, bool ceil_mode) {
  return differentiable(GradOp::avg_pool2d, {x}, [&] { return raw::avg_pool2d(x, p, ceil_mode); },
                        [p, ceil_mode, in = InputGeometry(x)](const TensorList& g) -> TensorList {
                          return {avg_pool_backward(g[0], in.sizes, p, ceil_mode)};
                        });
}

// Runs a 4-D op on an unbatched (C, H, W) input as a batch of one.
template <typename Op>
Tensor batched(const Tensor& x, std::string_view op, Op&& run) {
  LOOM_CHECK(x.defined(), ValueError, "{}: the input is undefined", op);
  LOOM_CHECK(x.dim() == 3 || x.dim() == 4, ShapeError, "{}: expected a (N, C, H, W) or (C, H, W) input, found shape {}",
             op, x.sizes().str());
  return x.dim() == 3 ? run(x.unsqueeze(0)).squeeze(0) : run(x);
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

ValuesIndices max_pool2d_with_indices(const Tensor& x, const MaxPool2dFuncOptions& o) {
  LOOM_CHECK(x.defined() && (x.dim() == 3 || x.dim() == 4), ShapeError,
             "max_pool2d: expected a (N, C, H, W) or (C, H, W) input, found shape {}",
             x.defined() ? x.sizes().str() : std::string("undefined"));
  if (x.dim() == 3) {
    ValuesIndices r = max_pool2d_with_indices(x.unsqueeze(0), o);
    return {r.values.squeeze(0), r.indices.squeeze(0)};
  }
  ProfileScope profile(autograd::grad_op_name(GradOp::max_pool2d));  // it records its node itself
  Pool2dParams p;
  for (int a = 0; a < 2; ++a) {
    p.kernel[a] = o.kernel_size[a];
    p.stride[a] = o.stride[a] == 0 ? o.kernel_size[a] : o.stride[a];
    p.padding[a] = o.padding[a];
    p.dilation[a] = o.dilation[a];
  }
  if (!autograd::needs_grad(x)) return raw::max_pool2d(x, p, o.ceil_mode);
  ValuesIndices r;
  {
    NoGradGuard no_grad;
    r = raw::max_pool2d(x, p, o.ceil_mode);
  }
  auto backward = [indices = r.indices, in = InputGeometry(x)](const TensorList& g) -> TensorList {
    if (!is_grad_enabled()) return {raw::max_pool2d_backward(g[0], indices, in.sizes)};
    // create_graph: the same scatter with differentiable ops (each (n, c) plane flattened).
    const std::int64_t N = in.sizes[0], C = in.sizes[1];
    Tensor planes = scatter_add(zeros({N, C, in.sizes[2] * in.sizes[3]}, in.dtype), 2, indices.reshape({N, C, -1}),
                                g[0].reshape({N, C, -1}));
    return {planes.reshape(in.sizes)};
  };
  autograd::record_node(std::make_shared<autograd::ClosureNode<decltype(backward)>>(
                            autograd::grad_op_name(GradOp::max_pool2d), std::move(backward)),
                        {x}, r.values);
  return r;
}

Tensor max_pool2d(const Tensor& x, const MaxPool2dFuncOptions& options) {
  return max_pool2d_with_indices(x, options).values;
}

Tensor avg_pool2d(const Tensor& x, const AvgPool2dFuncOptions& options) {
  return batched(x, "avg_pool2d",
                 [&](const Tensor& x4) { return avg_pool(x4, avg_params(options), options.ceil_mode); });
}

Tensor avg_pool2d_backward(const Tensor& grad_output, const Shape& input_sizes, const AvgPool2dFuncOptions& options) {
  return avg_pool_backward(grad_output, input_sizes, avg_params(options), options.ceil_mode);
}

}  // namespace loom::nn::functional
