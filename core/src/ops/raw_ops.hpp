#pragma once
// The non-recording layer: every op's forward (validation, promotion, broadcasting, backend
// call) without autograd. The public ops beside them (ops/<family>.cpp) call these under
// NoGradGuard and record their gradient rule; code that must never record (the engine, fused
// backward paths) calls them directly.
#include <string_view>

#include "loom/tensor.hpp"

namespace loom {
struct Conv2dParams;  // loom/backend.hpp
struct Pool2dParams;
}  // namespace loom

namespace loom::raw {

// ---- elementwise: one function per primitive of the unary, binary and compare families of
// loom/ops.def (generated from the list) ----
#define LOOM_RAW_unary(name) Tensor name(const Tensor& x);
#define LOOM_RAW_binary(name) Tensor name(const Tensor& a, const Tensor& b);
#define LOOM_RAW_compare(name) LOOM_RAW_binary(name)
#define LOOM_RAW_OTHER(name)
#define LOOM_OP(family, name, params) LOOM_RAW_##family(name)
#define LOOM_RAW_memory LOOM_RAW_OTHER
#define LOOM_RAW_ternary LOOM_RAW_OTHER
#define LOOM_RAW_reduce LOOM_RAW_OTHER
#define LOOM_RAW_matmul LOOM_RAW_OTHER
#define LOOM_RAW_convolution LOOM_RAW_OTHER
#define LOOM_RAW_pooling LOOM_RAW_OTHER
#define LOOM_RAW_normalization LOOM_RAW_OTHER
#define LOOM_RAW_attention LOOM_RAW_OTHER
#define LOOM_RAW_recurrent LOOM_RAW_OTHER
#define LOOM_RAW_index LOOM_RAW_OTHER
#define LOOM_RAW_random LOOM_RAW_OTHER
#include "loom/ops.def"
#undef LOOM_OP
Tensor clamp(const Tensor& x, Scalar lo, Scalar hi);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor masked_fill(const Tensor& x, const Tensor& mask, Scalar value);
// A 0-d tensor of the dtype `other` promotes to with `s` (how scalars enter binary ops).
Tensor wrap_scalar(Scalar s, const Tensor& other);

// ---- reductions ----
Tensor sum(const Tensor& x, const Shape& dims, bool keepdim);
Tensor prod(const Tensor& x, const Shape& dims, bool keepdim);
Tensor mean(const Tensor& x, const Shape& dims, bool keepdim);
Tensor max(const Tensor& x);
Tensor min(const Tensor& x);
ValuesIndices max(const Tensor& x, std::int64_t dim, bool keepdim);
ValuesIndices min(const Tensor& x, std::int64_t dim, bool keepdim);
// The dims a reduction over `dims` touches (all when empty), as a mask of x's rank.
std::vector<bool> reduced_dims(std::string_view op, const Tensor& x, const Shape& dims);

// ---- linear algebra ----
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor bmm(const Tensor& a, const Tensor& b);

// ---- convolution and pooling (ops/conv.cpp, ops/pool.cpp) ----
// x (N, C, H, W), w (O, C/groups, kH, kW), bias (O) or undefined → (N, O, OH, OW), channels-last.
// `op` names the public op in errors (conv1d, conv_transpose2d, ...).
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p,
              std::string_view op = "conv2d");
// The gradient of conv2d's input of shape input_sizes (= a transposed convolution, no bias).
Tensor conv2d_backward_data(const Tensor& dout, const Tensor& w, const Shape& input_sizes, const Conv2dParams& p,
                            std::string_view op = "conv2d_backward_data");
// The gradient of conv2d's weight of shape weight_sizes.
Tensor conv2d_backward_weight(const Tensor& dout, const Tensor& x, const Shape& weight_sizes, const Conv2dParams& p,
                              std::string_view op = "conv2d_weight_grad");
// The gradients of conv2d's weight and bias (O) together.
struct ConvWeightBiasGrads {
  Tensor dw, dbias;
};
ConvWeightBiasGrads conv2d_backward_weight_bias(const Tensor& dout, const Tensor& x, const Shape& weight_sizes,
                                                const Conv2dParams& p);
// (N, O, OH, OW) of conv2d with these sizes; the errors name `op`.
Shape conv2d_output_sizes(std::string_view op, const Shape& x, const Shape& w, const Conv2dParams& p);
// ceil_mode rounds the output size up (PyTorch's rule: the last window starts inside the input
// or the left padding). It is the core's business only: the kernels take the output size from
// their output tensor and clip every window to the input (and avg's divisor to the padded input).
Shape pool2d_output_sizes(std::string_view op, const Shape& x, const Pool2dParams& p, bool ceil_mode);
ValuesIndices max_pool2d(const Tensor& x, const Pool2dParams& p, bool ceil_mode);
Tensor max_pool2d_backward(const Tensor& dout, const Tensor& indices, const Shape& input_sizes);
Tensor avg_pool2d(const Tensor& x, const Pool2dParams& p, bool ceil_mode);
Tensor avg_pool2d_backward(const Tensor& dout, const Shape& input_sizes, const Pool2dParams& p, bool ceil_mode);

// ---- normalisation (ops/norm.cpp) ----
// Batch normalisation in training mode: x (N, C, *) → y (x's sizes and memory format) and the
// batch mean and biased variance (C); weight and bias (C) or undefined.
struct BatchNormResult {
  Tensor y, mean, var;
};
BatchNormResult batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps);
// Its gradient from the saved mean and var; dweight and dbias only when asked for.
struct BatchNormGrads {
  Tensor dx, dweight, dbias;
};
BatchNormGrads batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& mean, const Tensor& var,
                                   const Tensor& weight, double eps, bool weight_grad, bool bias_grad);
// Layer normalisation of the rows of x (M, N): y (M, N, contiguous) and each row's mean and biased
// variance (M); weight and bias (N) or undefined. F::layer_norm and F::group_norm view their
// inputs so.
struct LayerNormResult {
  Tensor y, mean, var;
};
LayerNormResult layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps);
// Its gradient from the saved mean and var; dweight and dbias only when asked for.
struct LayerNormGrads {
  Tensor dx, dweight, dbias;
};
LayerNormGrads layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& mean, const Tensor& var,
                                   const Tensor& weight, double eps, bool weight_grad, bool bias_grad);

// ---- recurrent cells' pointwise parts (ops/recurrent.cpp; formulas in loom/ops.def) ----
// gi and gh (N, G·H), states (N, H); outputs dense row-major. Not differentiable: the recurrent
// layers' fused path records one node per layer and direction around them.
struct LstmCellResult {
  Tensor h, c, act;
};
LstmCellResult lstm_cell(const Tensor& gi, const Tensor& gh, const Tensor& c_prev);
struct LstmCellGrads {
  Tensor dgates, dc_prev;
};
LstmCellGrads lstm_cell_backward(const Tensor& dh, const Tensor& dc, const Tensor& act, const Tensor& c,
                                 const Tensor& c_prev);
struct GruCellResult {
  Tensor h, act;
};
GruCellResult gru_cell(const Tensor& gi, const Tensor& gh, const Tensor& h_prev);
struct GruCellGrads {
  Tensor dgi, dgh, dh_prev;
};
GruCellGrads gru_cell_backward(const Tensor& dh, const Tensor& act, const Tensor& gh, const Tensor& h_prev);

// ---- indexing and joining ----
Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index);
Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index);
Tensor scatter_add(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& src);
// scatter_add into `out` itself (dense, contiguous, nobody else's): a gradient buffer.
void scatter_add_into(const Tensor& out, std::int64_t dim, const Tensor& index, const Tensor& src);
Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim);

// ---- views and conversions (Tensor's methods record on top of these) ----
Tensor view(const Tensor& x, const Shape& shape);
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor transpose(const Tensor& x, std::int64_t dim0, std::int64_t dim1);
Tensor permute(const Tensor& x, const Shape& dims);
Tensor slice(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t end, std::int64_t step);
Tensor select(const Tensor& x, std::int64_t dim, std::int64_t index);
Tensor expand(const Tensor& x, const Shape& shape);
Tensor squeeze(const Tensor& x);
Tensor squeeze(const Tensor& x, std::int64_t dim);
Tensor unsqueeze(const Tensor& x, std::int64_t dim);
Tensor as_strided(const Tensor& x, const Shape& sizes, const Shape& strides, std::int64_t offset);
Tensor to_dtype(const Tensor& x, DType dtype);
Tensor to_device(const Tensor& x, Device device);
Tensor clone(const Tensor& x, MemoryFormat format);

}  // namespace loom::raw
