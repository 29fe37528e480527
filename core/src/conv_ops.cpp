// Convolution and pooling: validation, output sizes and backend calls (no autograd; the rules
// are in autograd/functions_conv.cpp). Output size per spatial dim (COURSE.md):
//   ⌊(N + 2P − D·(F − 1) − 1)/S⌋ + 1,   which is ⌊(N + 2P − F)/S⌋ + 1 for D = 1.
// Activations come out channels-last (DESIGN §2); float32 inputs are made channels-last before
// the backend call, which is the layout oneDNN's fast kernels read.
#include "internal.hpp"
#include "raw_ops.hpp"

namespace loom::raw {

using detail::backend_checked;
using detail::make_tensor;

namespace {

Tensor channels_last(const Tensor& t) {
  return t.dtype() == DType::Float32 && !t.is_contiguous(MemoryFormat::ChannelsLast)
             ? raw::clone(t, MemoryFormat::ChannelsLast)
             : t;
}
Tensor empty_channels_last(const Shape& sizes, const Tensor& like) {
  return make_tensor(sizes, detail::channels_last_strides(sizes), like.dtype(), like.device());
}
Tensor zeros_channels_last(const Shape& sizes, const Tensor& like) {
  Tensor t = empty_channels_last(sizes, like);
  if (t.numel() > 0) backend_checked(Op::fill, t.device(), t.dtype()).fill(t, 0);
  return t;
}

void check_floating_4d(std::string_view op, std::string_view what, const Tensor& t) {
  LOOM_CHECK(t.defined(), ValueError, "{}: {} is undefined", op, what);
  LOOM_CHECK(t.dim() == 4, ShapeError, "{}: expected a 4-D {} (N, C, H, W), found shape {}", op, what,
             t.sizes().str());
  LOOM_CHECK(t.is_floating_point(), DTypeError, "{}: expected a floating {}, found {}", op, what,
             dtype_name(t.dtype()));
}

void check_same_dtype(std::string_view op, const Tensor& a, const Tensor& b) {
  LOOM_CHECK(a.dtype() == b.dtype(), DTypeError, "{}: input and weight dtypes differ: {} and {}", op,
             dtype_name(a.dtype()), dtype_name(b.dtype()));
  detail::check_same_device(op, a, b);
}

// One spatial dim's output size, with the COURSE.md errors for stride 0 and a window larger than
// the padded input.
std::int64_t output_size(std::string_view op, const char* axis, std::int64_t in, std::int64_t kernel,
                         std::int64_t stride, std::int64_t padding, std::int64_t dilation) {
  LOOM_CHECK(stride >= 1, ValueError, "{}: stride must be ≥ 1, found {} along {}", op, stride, axis);
  LOOM_CHECK(padding >= 0, ValueError, "{}: padding must be ≥ 0, found {} along {}", op, padding, axis);
  LOOM_CHECK(dilation >= 1, ValueError, "{}: dilation must be ≥ 1, found {} along {}", op, dilation, axis);
  LOOM_CHECK(kernel >= 1, ValueError, "{}: kernel size must be ≥ 1, found {} along {}", op, kernel, axis);
  const std::int64_t extent = dilation * (kernel - 1) + 1;
  LOOM_CHECK(extent <= in + 2 * padding, ShapeError,
             "{}: the kernel ({} along {}{}) is larger than the padded input ({} + 2·{} = {})", op, kernel, axis,
             dilation > 1 ? fmt::format(", {} with dilation {}", extent, dilation) : std::string(), in, padding,
             in + 2 * padding);
  return (in + 2 * padding - extent) / stride + 1;
}

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

// ---- pooling ----
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
