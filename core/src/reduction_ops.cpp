// Reductions and matmul. The backend reduces into a keepdim-shaped output; squeezing,
// averaging and the all-elements forms are done here.
#include <algorithm>
#include <limits>

#include "internal.hpp"
#include "raw_ops.hpp"

namespace loom::raw {

using detail::backend_checked;
using detail::make_tensor;
using detail::wrap_dim;

// Which dims to reduce (all when `dims` is empty), as a mask; IndexError on a repeated dim.
std::vector<bool> reduced_dims(std::string_view op, const Tensor& x, const Shape& dims) {
  const std::int64_t rank = x.dim();
  std::vector<bool> mask(static_cast<std::size_t>(rank), dims.empty());
  for (auto d : dims) {
    const std::int64_t w = wrap_dim(d, rank, op);
    if (rank == 0) continue;
    LOOM_CHECK(!mask[w], IndexError, "{}: dim {} appears more than once in {}", op, w, dims.str());
    mask[w] = true;
  }
  return mask;
}

namespace {

Shape keepdim_shape(const Tensor& x, const std::vector<bool>& mask) {
  Shape s = x.sizes();
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (mask[i]) s[i] = 1;
  return s;
}

Shape squeezed_shape(const Tensor& x, const std::vector<bool>& mask) {
  Shape s;
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (!mask[i]) s.push_back(x.sizes()[i]);
  return s;
}

using ReduceFn = void (Backend::*)(const Tensor&, const Tensor&);

// sum and prod: integral and bool inputs accumulate into int64 (PyTorch).
Tensor accumulate(Op op, ReduceFn fn, Scalar identity, const Tensor& x, const Shape& dims, bool keepdim) {
  const std::string_view name = op_name(op);
  LOOM_CHECK(x.defined(), ValueError, "{}: the input tensor is undefined", name);
  auto mask = reduced_dims(name, x, dims);
  const DType out_dtype = is_floating(x.dtype()) ? x.dtype() : DType::Int64;
  Tensor out = make_tensor(keepdim_shape(x, mask), out_dtype, x.device());
  if (out.numel() > 0) {
    if (x.numel() == 0) {
      out.fill_(identity);
    } else {
      (backend_checked(op, x.device(), x.dtype()).*fn)(out, x);
    }
  }
  return keepdim ? out : detail::reshape_fresh(std::move(out), squeezed_shape(x, mask));
}

using ArgReduceFn = void (Backend::*)(const Tensor&, const Tensor&, const Tensor&, int);

ValuesIndices arg_reduce(Op op, ArgReduceFn fn, const Tensor& x, std::int64_t dim, bool keepdim) {
  const std::string_view name = op_name(op);
  LOOM_CHECK(x.defined(), ValueError, "{}: the input tensor is undefined", name);
  Tensor src = x.dim() == 0 ? x.reshape({1}) : x;
  const std::int64_t d = wrap_dim(dim, src.dim(), name);
  LOOM_CHECK(src.sizes()[d] > 0, ShapeError,
             "{}: cannot reduce dim {} of size 0 (shape {}): the result would be undefined", name,
             d, x.sizes().str());
  Shape kshape = src.sizes();
  kshape[d] = 1;
  Tensor values = make_tensor(kshape, x.dtype(), x.device());
  Tensor indices = make_tensor(kshape, DType::Int64, x.device());
  if (values.numel() > 0)
    (backend_checked(op, x.device(), x.dtype()).*fn)(values, indices, src, static_cast<int>(d));
  if (keepdim && x.dim() > 0) return {values, indices};
  Shape s = x.dim() == 0 ? Shape{} : src.sizes();
  if (x.dim() > 0) s.erase(d);
  return {values.view(s), indices.view(s)};
}

Tensor all_reduce(Op op, ArgReduceFn fn, const Tensor& x) {
  LOOM_CHECK(x.defined(), ValueError, "{}: the input tensor is undefined", op_name(op));
  LOOM_CHECK(x.numel() > 0, ShapeError,
             "{}: expected a non-empty tensor, found shape {} (the result would be undefined)",
             op_name(op), x.sizes().str());
  return arg_reduce(op, fn, x.reshape({-1}), 0, false).values;
}

}  // namespace

Tensor sum(const Tensor& x, const Shape& dims, bool keepdim) {
  return accumulate(Op::sum, &Backend::sum, 0, x, dims, keepdim);
}
Tensor prod(const Tensor& x, const Shape& dims, bool keepdim) {
  return accumulate(Op::prod, &Backend::prod, 1, x, dims, keepdim);
}

Tensor mean(const Tensor& x, const Shape& dims, bool keepdim) {
  LOOM_CHECK(x.defined(), ValueError, "mean: the input tensor is undefined");
  LOOM_CHECK(x.is_floating_point(), DTypeError,
             "mean: expected a floating tensor, found {} (convert with .to(DType::Float32))",
             dtype_name(x.dtype()));
  auto mask = reduced_dims("mean", x, dims);
  std::int64_t count = 1;
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (mask[i]) count *= x.sizes()[i];
  Tensor s = raw::sum(x, dims, keepdim);
  // An empty reduction gives NaN, as PyTorch (0/0).
  return loom::div(s, count == 0 ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(count));
}

Tensor max(const Tensor& x) { return all_reduce(Op::max, &Backend::max, x); }
Tensor min(const Tensor& x) { return all_reduce(Op::min, &Backend::min, x); }
ValuesIndices max(const Tensor& x, std::int64_t dim, bool keepdim) {
  return arg_reduce(Op::max, &Backend::max, x, dim, keepdim);
}
ValuesIndices min(const Tensor& x, std::int64_t dim, bool keepdim) {
  return arg_reduce(Op::min, &Backend::min, x, dim, keepdim);
}

// ---- matmul ----
namespace {
void check_matmul_dtypes(std::string_view op, const Tensor& a, const Tensor& b) {
  LOOM_CHECK(a.defined() && b.defined(), ValueError, "{}: an input tensor is undefined", op);
  detail::check_same_device(op, a, b);
  LOOM_CHECK(a.dtype() == b.dtype(), DTypeError,
             "{}: expected both operands of one dtype, found {} and {}", op, dtype_name(a.dtype()),
             dtype_name(b.dtype()));
  LOOM_CHECK(a.is_floating_point(), DTypeError, "{}: expected floating tensors, found {}", op,
             dtype_name(a.dtype()));
}

// a3: (B, M, K), b3: (B, K, N) → (B, M, N)
Tensor bmm_unchecked(const Tensor& a3, const Tensor& b3) {
  const std::int64_t B = a3.size(0), M = a3.size(1), N = b3.size(2);
  Tensor out = make_tensor({B, M, N}, a3.dtype(), a3.device());
  if (out.numel() > 0) backend_checked(Op::bmm, a3.device(), a3.dtype()).bmm(out, a3, b3);
  return out;
}
}  // namespace

Tensor bmm(const Tensor& a, const Tensor& b) {
  check_matmul_dtypes("bmm", a, b);
  LOOM_CHECK(a.dim() == 3 && b.dim() == 3, ShapeError,
             "bmm: expected two 3-D tensors (B, M, K) and (B, K, N), found {} and {}",
             a.sizes().str(), b.sizes().str());
  LOOM_CHECK(a.size(0) == b.size(0) && a.size(2) == b.size(1), ShapeError,
             "bmm: shapes {} and {} do not fit: expected (B, M, K) and (B, K, N)", a.sizes().str(),
             b.sizes().str());
  return bmm_unchecked(a, b);
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_matmul_dtypes("matmul", a, b);
  LOOM_CHECK(a.dim() >= 1 && b.dim() >= 1, ShapeError,
             "matmul: expected tensors of rank ≥ 1, found shapes {} and {}", a.sizes().str(),
             b.sizes().str());
  // 1-D operands become matrices (a row, b a column) whose extra dim is dropped at the end.
  if (a.dim() == 2 && b.dim() == 2) {
    // The common case, without the batch machinery: (M, K)·(K, N) as one batch of one.
    LOOM_CHECK(a.size(1) == b.size(0), ShapeError,
               "matmul: shapes {} and {} do not fit: the inner sizes are {} and {}", a.sizes().str(),
               b.sizes().str(), a.size(1), b.size(0));
    const Shape& as = a.sizes();
    const Shape& bs = b.sizes();
    const Tensor a3 = detail::make_view(a, {1, as[0], as[1]}, {0, a.strides()[0], a.strides()[1]}, a.storage_offset());
    const Tensor b3 = detail::make_view(b, {1, bs[0], bs[1]}, {0, b.strides()[0], b.strides()[1]}, b.storage_offset());
    return detail::reshape_fresh(bmm_unchecked(a3, b3), {as[0], bs[1]});
  }
  Tensor a2 = a.dim() == 1 ? a.unsqueeze(0) : a;
  Tensor b2 = b.dim() == 1 ? b.unsqueeze(1) : b;
  const std::int64_t M = a2.size(-2), K = a2.size(-1), K2 = b2.size(-2), N = b2.size(-1);
  LOOM_CHECK(K == K2, ShapeError,
             "matmul: shapes {} and {} do not fit: the inner sizes are {} and {}",
             a.sizes().str(), b.sizes().str(), K, K2);
  Shape a_batch(a2.sizes().begin(), a2.sizes().end() - 2);
  Shape b_batch(b2.sizes().begin(), b2.sizes().end() - 2);
  Shape batch = detail::broadcast_shapes_for("matmul", a_batch, b_batch);
  const std::int64_t B = batch.numel();
  auto to3 = [&](const Tensor& t, std::int64_t rows, std::int64_t cols) {
    Shape full = batch;
    full.push_back(rows);
    full.push_back(cols);
    // A broadcast batch stays a stride-0 view when the operand had no batch dims.
    if (t.dim() == 2) return t.unsqueeze(0).expand({B, rows, cols});
    return t.expand(full).reshape({B, rows, cols});
  };
  Tensor out = bmm_unchecked(to3(a2, M, K), to3(b2, K, N));
  Shape out_shape = batch;
  if (a.dim() > 1) out_shape.push_back(M);
  if (b.dim() > 1) out_shape.push_back(N);
  return detail::reshape_fresh(std::move(out), out_shape);
}

}  // namespace loom::raw
