// The fused scaled dot-product attention (ops.def's attention primitives) behind
// F::scaled_dot_product_attention: shapes brought to the primitive's (B, L, E) and its
// (B1, B2, L, S) mask, and the gradient rule. Without create_graph the backward primitive
// recomputes the weights block by block from the saved log-sum-exp; with it, the gradient is
// taken through the composed math path (scaled_dot_product_attention_with_weights), so that
// gradients of gradients come from its ops.
#include "ops/attention.hpp"

#include <cmath>

#include "autograd/rules.hpp"
#include "loom/nn/functional/attention.hpp"

// ==== forward and backward: validation and the backend calls ======================================
namespace loom::raw {

using detail::backend_checked;
using detail::make_tensor;

// out (B, L, Ev) and lse (B, L) of the primitive's operands.
std::pair<Tensor, Tensor> attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, bool causal,
                                    double scale) {
  Tensor out = make_tensor({q.size(0), q.size(1), v.size(2)}, q.dtype(), q.device());
  Tensor lse = make_tensor({q.size(0), q.size(1)}, q.dtype(), q.device());
  if (out.numel() > 0) backend_checked(Op::attention, q.device(), q.dtype()).attention(out, lse, q, k, v, mask, causal, scale);
  return {out, lse};
}

TensorList attention_backward(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                              const Tensor& lse, const Tensor& mask, bool causal, double scale) {
  TensorList d = {make_tensor(q.sizes(), q.dtype(), q.device()), make_tensor(k.sizes(), k.dtype(), k.device()),
                  make_tensor(v.sizes(), v.dtype(), v.device())};
  const Tensor g = dout.is_contiguous() ? dout : dout.contiguous();
  if (out.numel() > 0) {
    backend_checked(Op::attention_backward, q.device(), q.dtype())
        .attention_backward(d[0], d[1], d[2], g, q, k, v, out, lse, mask, causal, scale);
  } else {
    for (const Tensor& t : d)
      if (t.numel() > 0) backend_checked(Op::fill, t.device(), t.dtype()).fill(t, 0);
  }
  return d;
}

}  // namespace loom::raw

// ==== the differentiable op ========================================================================
namespace loom::nn::functional::detail {

namespace {

struct FusedOperands {
  Tensor q, k, v, mask;  // (B, L, E), (B, S, E), (B, S, Ev) dense; (B1, B2, L, S) or undefined
  Shape out_shape;       // q's batch dims, L, Ev
};

// q (..., L, E), k (..., S, E), v (..., S, Ev) with equal batch dims; the mask broadcasts to
// (..., L, S). The batch dims become B1·B2 (the last batch dim is B2: the heads), so that a mask
// broadcast over the heads (a key-padding mask) stays a stride-0 view.
FusedOperands fused_operands(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask) {
  const std::int64_t L = q.size(-2), E = q.size(-1), S = k.size(-2), Ev = v.size(-1);
  const Shape batch(std::vector<std::int64_t>(q.sizes().begin(), q.sizes().end() - 2));
  const std::int64_t B = batch.numel();
  const std::int64_t B2 = batch.empty() ? 1 : batch[batch.size() - 1];
  FusedOperands r;
  r.q = q.contiguous().reshape({B, L, E});
  r.k = k.contiguous().reshape({B, S, E});
  r.v = v.contiguous().reshape({B, S, Ev});
  if (mask.defined()) {
    Shape full = batch;
    full.push_back(L);
    full.push_back(S);
    r.mask = mask.expand(full).reshape({B2 == 0 ? 0 : B / B2, B2, L, S});
  }
  r.out_shape = batch;
  r.out_shape.push_back(L);
  r.out_shape.push_back(Ev);
  return r;
}

// The rule of ops.def's attention_backward with differentiable ops (create_graph): the weights
// P recomputed by the math path, then dv = Pᵀ·g, dS = P∘(g·vᵀ − rowsum(P∘g·vᵀ)), dq = scale·dS·k,
// dk = scale·dSᵀ·q.
TensorList composed_backward(const Tensor& g, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                             bool causal, double scale) {
  const Tensor p = scaled_dot_product_attention_with_weights(q, k, v, mask.defined() ? mask.flatten(0, 1) : mask, 0.0,
                                                             causal, scale).weights;
  const Tensor dp = matmul(g, v.transpose(-2, -1));
  const Tensor ds = p * (dp - sum(dp * p, {-1}, true));
  return {matmul(ds, k) * scale, matmul(ds.transpose(-2, -1), q) * scale, matmul(p.transpose(-2, -1), g)};
}

}  // namespace

bool fused_attention_applies(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& attn_mask,
                             double dropout_p) {
  // Below this many attention weights (64 MiB of float32) the math path is faster: the kernel's
  // own loops are SSE2 while oneDNN's softmax runs AVX-512 (bench_attention, 4 heads x 64, 2
  // threads: S = 49 at batch 128 16.9 vs 9.7 ms, S = 512 8.0 vs 4.5 ms, S = 2048 125 vs 75 ms),
  // and its memory saving matters only for large weights (26 vs 340 MiB at S = 2048).
  constexpr std::int64_t kMinWeights = std::int64_t{1} << 24;
  if (q.dtype() != DType::Float32 || dropout_p > 0 || q.dim() != k.dim() || q.dim() != v.dim()) return false;
  if (q.numel() / q.size(-1) * k.size(-2) < kMinWeights) return false;
  for (std::int64_t d = 0; d + 2 < q.dim(); ++d)
    if (q.size(d) != k.size(d) || q.size(d) != v.size(d)) return false;
  if (attn_mask.defined() && attn_mask.dim() > q.dim()) return false;  // the mask adds batch dims
  return q.numel() > 0 && k.numel() > 0 && v.numel() > 0 &&
         ::loom::backend_for(q.device()).supports(Op::attention, q.dtype());
}

Tensor fused_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& attn_mask, bool is_causal,
                       double scale) {
  ProfileScope profile(autograd::grad_op_name(GradOp::attention));
  const FusedOperands f = fused_operands(q, k, v, attn_mask);
  if (!autograd::needs_grad(q, k, v))
    return raw::attention(f.q, f.k, f.v, f.mask, is_causal, scale).first.reshape(f.out_shape);
  std::pair<Tensor, Tensor> r;
  {
    NoGradGuard no_grad;
    r = raw::attention(f.q, f.k, f.v, f.mask, is_causal, scale);
  }
  // The output is saved too (the backward's rowsum(dout∘out)): changing it in place is an error at
  // backward, like changing an input.
  auto backward = [sq = SavedTensor(f.q, false), sk = SavedTensor(f.k, false), sv = SavedTensor(f.v, false),
                   sout = SavedTensor(r.first, true), lse = r.second, mask = f.mask, is_causal,
                   scale](const TensorList& g) -> TensorList {
    const Tensor q3 = sq.unpack("attention"), k3 = sk.unpack("attention"), v3 = sv.unpack("attention");
    if (is_grad_enabled()) return composed_backward(g[0], q3, k3, v3, mask, is_causal, scale);
    return raw::attention_backward(g[0], q3, k3, v3, sout.unpack("attention"), lse, mask, is_causal, scale);
  };
  autograd::record_node(::loom::detail::make_pooled<autograd::ClosureNode<decltype(backward)>>(
                            autograd::grad_op_name(GradOp::attention), std::move(backward)),
                        {f.q, f.k, f.v}, r.first);
  return r.first.reshape(f.out_shape);
}

}  // namespace loom::nn::functional::detail
