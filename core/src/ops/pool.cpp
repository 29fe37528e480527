// Pooling (max_pool2d with its argmax indices, avg_pool2d and its backward as an op), the family in
// one place: the forward in loom::raw (validation, output sizes with ceil mode, backend calls), then
// the public ops with their gradient rules. Max pooling's gradient scatters into the argmax positions
// (fused primitive without create_graph, scatter_add with it); average pooling and its backward are
// adjoint.
#include "loom/nn/functional/pooling.hpp"

#include "autograd/rules.hpp"
#include "ops/spatial.hpp"

// ==== forward: validation and the backend call ====================================================
namespace loom::raw {

using detail::backend_checked;
using detail::channels_last;
using detail::check_floating_4d;
using detail::empty_channels_last;
using detail::make_tensor;
using detail::output_size;
using detail::zeros_channels_last;

Shape pool2d_output_sizes(std::string_view op, const Shape& x, const Pool2dParams& p, bool ceil_mode) {
  Shape out{x[0], x[1], 0, 0};
  for (int a = 0; a < 2; ++a) {
    LOOM_CHECK(p.kernel[a] >= 1, ValueError, "{}: kernel size must be ≥ 1, found {}", op, p.kernel[a]);
    LOOM_CHECK(p.padding[a] >= 0 && 2 * p.padding[a] <= p.kernel[a], ValueError,
               "{}: padding must be in [0, kernel/2], found padding {} for kernel {}", op, p.padding[a], p.kernel[a]);
    const std::int64_t in = x[2 + a], s = p.stride[a], pad = p.padding[a];
    std::int64_t n = output_size(op, a == 0 ? "H" : "W", in, p.kernel[a], s, pad, p.dilation[a]);
    // Ceil mode: one more, partial, window when the floor leaves input uncovered and that window
    // would start before the right padding (PyTorch drops a window lying wholly in the padding).
    const std::int64_t extent = p.dilation[a] * (p.kernel[a] - 1) + 1;
    if (ceil_mode && (in + 2 * pad - extent) % s != 0 && n * s < in + pad) ++n;
    out[2 + a] = n;
  }
  return out;
}

ValuesIndices max_pool2d(const Tensor& x, const Pool2dParams& p, bool ceil_mode) {
  check_floating_4d("max_pool2d", "input", x);
  const Shape out_sizes = pool2d_output_sizes("max_pool2d", x.sizes(), p, ceil_mode);
  ValuesIndices r{empty_channels_last(out_sizes, x),
                  make_tensor(out_sizes, detail::channels_last_strides(out_sizes), DType::Int64, x.device())};
  if (r.values.numel() > 0)
    backend_checked(Op::max_pool2d, x.device(), x.dtype()).max_pool2d(r.values, r.indices, channels_last(x), p);
  return r;
}

Tensor max_pool2d_backward(const Tensor& dout, const Tensor& indices, const Shape& input_sizes) {
  check_floating_4d("max_pool2d_backward", "grad_output", dout);
  LOOM_CHECK(indices.defined() && indices.dtype() == DType::Int64 && indices.sizes() == dout.sizes(), ShapeError,
             "max_pool2d_backward: expected int64 indices of shape {}, found {}", dout.sizes().str(),
             indices.defined() ? indices.sizes().str() : std::string("none"));
  LOOM_CHECK(input_sizes.size() == 4 && input_sizes[0] == dout.size(0) && input_sizes[1] == dout.size(1), ShapeError,
             "max_pool2d_backward: input size {} does not fit grad_output {}", input_sizes.str(), dout.sizes().str());
  if (dout.numel() == 0) return zeros_channels_last(input_sizes, dout);
  Tensor dx = empty_channels_last(input_sizes, dout);
  if (dx.numel() > 0)
    backend_checked(Op::max_pool2d_backward, dout.device(), dout.dtype()).max_pool2d_backward(dx, dout, indices);
  return dx;
}

Tensor avg_pool2d(const Tensor& x, const Pool2dParams& p, bool ceil_mode) {
  check_floating_4d("avg_pool2d", "input", x);
  LOOM_CHECK(p.dilation[0] == 1 && p.dilation[1] == 1, ValueError, "avg_pool2d: dilation must be 1");
  const Shape out_sizes = pool2d_output_sizes("avg_pool2d", x.sizes(), p, ceil_mode);
  Tensor out = empty_channels_last(out_sizes, x);
  if (out.numel() > 0) backend_checked(Op::avg_pool2d, x.device(), x.dtype()).avg_pool2d(out, channels_last(x), p);
  return out;
}

Tensor avg_pool2d_backward(const Tensor& dout, const Shape& input_sizes, const Pool2dParams& p, bool ceil_mode) {
  check_floating_4d("avg_pool2d_backward", "grad_output", dout);
  LOOM_CHECK(p.dilation[0] == 1 && p.dilation[1] == 1, ValueError, "avg_pool2d_backward: dilation must be 1");
  LOOM_CHECK(input_sizes.size() == 4, ShapeError, "avg_pool2d_backward: expected a 4-D input size, found {}",
             input_sizes.str());
  const Shape expected = pool2d_output_sizes("avg_pool2d_backward", input_sizes, p, ceil_mode);
  LOOM_CHECK(dout.sizes() == expected, ShapeError,
             "avg_pool2d_backward: an input of shape {} gives an output of shape {}, found grad_output {}",
             input_sizes.str(), expected.str(), dout.sizes().str());
  if (dout.numel() == 0) return zeros_channels_last(input_sizes, dout);
  Tensor dx = empty_channels_last(input_sizes, dout);
  backend_checked(Op::avg_pool2d_backward, dout.device(), dout.dtype()).avg_pool2d_backward(dx, channels_last(dout), p);
  return dx;
}

}  // namespace loom::raw

// ==== public ops and their gradient rules =========================================================
namespace loom::nn::functional {

using loom::detail::batched;

namespace {

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

}  // namespace

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
