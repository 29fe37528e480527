// Matrix products (matmul with torch.matmul's broadcasting, bmm), the family in one place: the
// forward in loom::raw (every product is one backend bmm; transposed views go as they are), then the
// public ops with their gradient rules.
#include "autograd/rules.hpp"

// ==== forward: validation and the backend call ====================================================
namespace loom::raw {

using detail::backend_checked;
using detail::make_tensor;

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
  if (a.dim() > 2 && b.dim() == 2) {
    // (..., M, K)·(K, N), e.g. linear() of a sequence: one GEMM over the (…·M, K) rows instead
    // of a batch of small ones.
    Shape out_shape = a.sizes();
    out_shape[out_shape.size() - 1] = N;
    return detail::reshape_fresh(raw::matmul(a.reshape({-1, K}), b), out_shape);
  }
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

// ==== public ops and their gradient rules =========================================================
namespace loom {

Tensor matmul(const Tensor& a, const Tensor& b) {
  // Without grad, skip building the rule's saved tensors and geometries.
  if (!autograd::needs_grad(a, b)) return autograd::forward_only(GradOp::matmul, [&] { return raw::matmul(a, b); });
  SavedTensor sa(b.defined() && b.requires_grad() ? a : Tensor(), false);
  SavedTensor sb(a.defined() && a.requires_grad() ? b : Tensor(), false);
  return differentiable(GradOp::matmul, {a, b}, [&] { return raw::matmul(a, b); },
                        [sa, sb, ia = InputGeometry(a), ib = InputGeometry(b)](const TensorList& g) -> TensorList {
                          // As matrices: da = g·bᵀ, db = aᵀ·g, with 1-D operands made 2-D and
                          // broadcast batch dims summed away.
                          const bool a1 = ia.sizes.size() == 1, b1 = ib.sizes.size() == 1;
                          Tensor g2 = g[0];
                          if (a1) g2 = g2.unsqueeze(b1 ? 0 : -2);
                          if (b1) g2 = g2.unsqueeze(-1);
                          Tensor da, db;
                          if (ia.needs_grad) {
                            Tensor b2 = sb.unpack("matmul");
                            if (b1) b2 = b2.unsqueeze(1);
                            Tensor d = matmul(g2, b2.transpose(-1, -2));
                            if (a1) d = d.squeeze(-2);
                            da = ia.reduce(d);
                          }
                          if (ib.needs_grad && ib.sizes.size() == 2 && ia.sizes.size() > 2) {
                            // A matrix b shared by every batch: dbᵀ sums over all rows at once,
                            // one GEMM (…·M, K)ᵀ·(…·M, N) instead of a batch of them and a sum.
                            const Tensor a2 = sa.unpack("matmul");
                            db = matmul(a2.reshape({-1, a2.size(-1)}).t(), g2.reshape({-1, g2.size(-1)}));
                          } else if (ib.needs_grad) {
                            Tensor a2 = sa.unpack("matmul");
                            if (a1) a2 = a2.unsqueeze(0);
                            Tensor d = matmul(a2.transpose(-1, -2), g2);
                            if (b1) d = d.squeeze(-1);
                            db = ib.reduce(d);
                          }
                          return {da, db};
                        });
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  SavedTensor sa(a, false), sb(b, false);
  return differentiable(GradOp::bmm, {a, b}, [&] { return raw::bmm(a, b); },
                        [sa, sb, ia = InputGeometry(a), ib = InputGeometry(b)](const TensorList& g) -> TensorList {
                          return {ia.needs_grad ? bmm(g[0], sb.unpack("bmm").transpose(1, 2)) : Tensor(),
                                  ib.needs_grad ? bmm(sa.unpack("bmm").transpose(1, 2), g[0]) : Tensor()};
                        });
}

}  // namespace loom
