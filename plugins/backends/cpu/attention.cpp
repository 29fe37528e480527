// Fused float32 scaled dot-product attention (FlashAttention-2, the scheme PyTorch 2's CPU
// kernel uses): queries in blocks of kQueryBlock rows stream the keys in blocks of kKeyBlock;
// each block's scores are one GEMM, an online softmax rescales the running output, and only the
// row's log-sum-exp is kept for the backward, which recomputes every block's weights. Memory is
// O(B·L·E) instead of the math path's O(B·L·S) weights. Tile products go to oneDNN's sgemm
// (serial inside the OpenMP region). float64 runs the reference kernel (reference_attention.cpp).
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "backend.hpp"
#include "fast_math.hpp"

namespace loom::cpu {
namespace {

constexpr std::int64_t kQueryBlock = 64;
constexpr std::int64_t kKeyBlock = 128;
constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

// The row loops of the online softmax, compiled per instruction set (fast_math.hpp).
LOOM_CPU_CLONES float row_maximum(const float* s, std::int64_t n, float m) {
#pragma omp simd reduction(max : m)
  for (std::int64_t c = 0; c < n; ++c) m = std::max(m, s[c]);
  return m;
}

// s ← e^(s − shift) (0 where s is −∞, a masked score); returns the row's sum.
LOOM_CPU_CLONES float exp_shifted(float* s, std::int64_t n, float shift) {
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (std::int64_t c = 0; c < n; ++c) {
    s[c] = fast_exp(s[c] - shift);
    sum += s[c];
  }
  return sum;
}

// dS = P∘(dP − delta) for one row, into p.
LOOM_CPU_CLONES void softmax_backward_row(float* p, const float* dp, float delta, std::int64_t n) {
#pragma omp simd
  for (std::int64_t c = 0; c < n; ++c) p[c] *= dp[c] - delta;
}

// c (m, n) = alpha·op(a)·op(b) + beta·c, row-major: oneDNN's sgemm, whose JIT kernels cost far
// less per call on these 64x128 tiles than OpenBLAS's (thousands of calls per attention). Inside
// the OpenMP region it runs on the calling thread.
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* a,
          std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc) {
  dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// What every block of one call shares: shapes, data, mask and the causal rule.
struct Problem {
  std::int64_t B, L, S, E, Ev;
  const float *q, *k, *v;
  const Tensor& mask;
  bool causal;
  float scale;

  Problem(const Tensor& q_, const Tensor& k_, const Tensor& v_, const Tensor& mask_, bool causal_, double scale_)
      : B(q_.size(0)), L(q_.size(1)), S(k_.size(1)), E(q_.size(2)), Ev(v_.size(2)),
        q(static_cast<const float*>(q_.raw_data())), k(static_cast<const float*>(k_.raw_data())),
        v(static_cast<const float*>(v_.raw_data())), mask(mask_), causal(causal_), scale(static_cast<float>(scale_)) {}

  const float* q_row(std::int64_t b, std::int64_t i) const { return q + (b * L + i) * E; }
  const float* k_row(std::int64_t b, std::int64_t j) const { return k + (b * S + j) * E; }
  const float* v_row(std::int64_t b, std::int64_t j) const { return v + (b * S + j) * Ev; }
  // The last key block a query block [i0, i1) needs: under `causal`, keys past i1 − 1 are masked.
  std::int64_t key_end(std::int64_t i1) const { return causal ? std::min(S, i1) : S; }

  // s (rows, cols) = scale·q[i0..]·k[j0..]ᵀ with the mask and the causal rule applied.
  void scores(std::int64_t b, std::int64_t i0, std::int64_t rows, std::int64_t j0, std::int64_t cols, float* s) const {
    gemm(false, true, rows, cols, E, scale, q_row(b, i0), E, k_row(b, j0), E, 0.0f,
                s, cols);
    if (mask.defined()) apply_mask(b, i0, rows, j0, cols, s);
    if (causal && j0 + cols - 1 > i0)
      for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = std::max<std::int64_t>(0, i0 + r + 1 - j0); c < cols; ++c) s[r * cols + c] = kMinusInf;
  }

  void apply_mask(std::int64_t b, std::int64_t i0, std::int64_t rows, std::int64_t j0, std::int64_t cols, float* s) const {
    const std::int64_t b2 = mask.size(1);
    const std::int64_t base = (b / b2) * mask.stride(0) + (b % b2) * mask.stride(1);
    const std::int64_t si = mask.stride(2), sj = mask.stride(3);
    if (mask.dtype() == DType::Bool) {
      const bool* m = static_cast<const bool*>(mask.raw_data()) + base;
      for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c)
          if (!m[(i0 + r) * si + (j0 + c) * sj]) s[r * cols + c] = kMinusInf;
    } else {
      const float* m = static_cast<const float*>(mask.raw_data()) + base;
      for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c) s[r * cols + c] += m[(i0 + r) * si + (j0 + c) * sj];
    }
  }
};

// One query block of one batch: the online softmax over the key blocks.
void forward_block(const Problem& p, std::int64_t b, std::int64_t i0, float* out, float* lse, std::vector<float>& s,
                   std::vector<float>& acc, std::vector<float>& row_max, std::vector<float>& row_sum) {
  const std::int64_t rows = std::min(kQueryBlock, p.L - i0);
  s.resize(static_cast<std::size_t>(kQueryBlock * kKeyBlock));
  acc.assign(static_cast<std::size_t>(rows * p.Ev), 0.0f);
  row_max.assign(static_cast<std::size_t>(rows), kMinusInf);
  row_sum.assign(static_cast<std::size_t>(rows), 0.0f);
  const std::int64_t end = p.key_end(i0 + rows);
  for (std::int64_t j0 = 0; j0 < end; j0 += kKeyBlock) {
    const std::int64_t cols = std::min(kKeyBlock, end - j0);
    p.scores(b, i0, rows, j0, cols, s.data());
    for (std::int64_t r = 0; r < rows; ++r) {
      float* sr = s.data() + r * cols;
      const float m = row_maximum(sr, cols, row_max[r]);
      if (m == kMinusInf) {  // every score so far masked: nothing to add yet
        std::fill(sr, sr + cols, 0.0f);
        continue;
      }
      const float rescale = fast_exp(row_max[r] - m);  // 0 when the row had no score before
      const float sum = exp_shifted(sr, cols, m);
      row_sum[r] = row_sum[r] * rescale + sum;
      row_max[r] = m;
      if (rescale != 1.0f)
        for (std::int64_t e = 0; e < p.Ev; ++e) acc[r * p.Ev + e] *= rescale;
    }
    // acc += P·v[j0..]
    gemm(false, false, rows, p.Ev, cols, 1.0f, s.data(), cols, p.v_row(b, j0), p.Ev,
                1.0f, acc.data(), p.Ev);
  }
  for (std::int64_t r = 0; r < rows; ++r) {
    const float l = row_sum[r];
    const float inv = l > 0 ? 1.0f / l : 0.0f;
    float* o = out + (b * p.L + i0 + r) * p.Ev;
    for (std::int64_t e = 0; e < p.Ev; ++e) o[e] = acc[r * p.Ev + e] * inv;
    lse[b * p.L + i0 + r] = l > 0 ? row_max[r] + std::log(l) : kMinusInf;
  }
}

// The gradient pieces of one (batch, key block range) against every query block: dk and dv of
// those keys are owned here; dq rows are added into `dq` (the caller's buffer for batch b).
struct BackwardInputs {
  const float *dout, *out, *lse;
};

void backward_keys(const Problem& p, const BackwardInputs& in, std::int64_t b, std::int64_t j0, std::int64_t cols,
                   const std::vector<float>& delta, float* dq, float* dk, float* dv) {
  std::vector<float> s(static_cast<std::size_t>(kQueryBlock * cols)), dp(s.size());
  for (std::int64_t i0 = p.causal ? (j0 / kQueryBlock) * kQueryBlock : 0; i0 < p.L; i0 += kQueryBlock) {
    const std::int64_t rows = std::min(kQueryBlock, p.L - i0);
    p.scores(b, i0, rows, j0, cols, s.data());
    for (std::int64_t r = 0; r < rows; ++r) {  // P = exp(S − lse)
      const float l = in.lse[b * p.L + i0 + r];
      float* sr = s.data() + r * cols;
      if (l == kMinusInf) {
        std::fill(sr, sr + cols, 0.0f);
        continue;
      }
      exp_shifted(sr, cols, l);
    }
    const float* g = in.dout + (b * p.L + i0) * p.Ev;
    // dv[j0..] += Pᵀ·dout;  dP = dout·v[j0..]ᵀ
    gemm(true, false, cols, p.Ev, rows, 1.0f, s.data(), cols, g, p.Ev, 1.0f,
                dv + j0 * p.Ev, p.Ev);
    gemm(false, true, rows, cols, p.Ev, 1.0f, g, p.Ev, p.v_row(b, j0), p.Ev, 0.0f,
                dp.data(), cols);
    for (std::int64_t r = 0; r < rows; ++r)  // dS = P∘(dP − delta), kept in s
      softmax_backward_row(s.data() + r * cols, dp.data() + r * cols, delta[i0 + r], cols);
    // dq[i0..] += scale·dS·k[j0..];  dk[j0..] += scale·dSᵀ·q[i0..]
    gemm(false, false, rows, p.E, cols, p.scale, s.data(), cols, p.k_row(b, j0), p.E,
                1.0f, dq + i0 * p.E, p.E);
    gemm(true, false, cols, p.E, rows, p.scale, s.data(), cols, p.q_row(b, i0), p.E,
                1.0f, dk + j0 * p.E, p.E);
  }
}

// delta_i = rowsum(dout_i ∘ out_i) for the rows of batch b.
std::vector<float> row_deltas(const Problem& p, const BackwardInputs& in, std::int64_t b) {
  std::vector<float> delta(static_cast<std::size_t>(p.L));
  for (std::int64_t i = 0; i < p.L; ++i) {
    const float* g = in.dout + (b * p.L + i) * p.Ev;
    const float* o = in.out + (b * p.L + i) * p.Ev;
    float d = 0;
    for (std::int64_t e = 0; e < p.Ev; ++e) d += g[e] * o[e];
    delta[i] = d;
  }
  return delta;
}

}  // namespace

void CpuBackend::attention(const Tensor& out, const Tensor& lse, const Tensor& q, const Tensor& k, const Tensor& v,
                           const Tensor& mask, bool causal, double scale) {
  if (q.dtype() != DType::Float32) {
    CpuReferenceBackend::attention(out, lse, q, k, v, mask, causal, scale);  // float64: the reference
    return;
  }
  const Problem p(q, k, v, mask, causal, scale);
  float* od = static_cast<float*>(out.raw_data());
  float* ld = static_cast<float*>(lse.raw_data());
  const std::int64_t blocks = (p.L + kQueryBlock - 1) / kQueryBlock;
#pragma omp parallel
  {
    std::vector<float> s, acc, row_max, row_sum;
#pragma omp for collapse(2) schedule(dynamic)
    for (std::int64_t b = 0; b < p.B; ++b)
      for (std::int64_t blk = 0; blk < blocks; ++blk) forward_block(p, b, blk * kQueryBlock, od, ld, s, acc, row_max, row_sum);
  }
}

// Parallel over batches when there are enough of them; otherwise over key blocks of each batch,
// every thread adding its dq into a buffer of its own, summed at the end (dk and dv of a key
// block belong to one thread either way).
void CpuBackend::attention_backward(const Tensor& dq, const Tensor& dk, const Tensor& dv, const Tensor& dout,
                                    const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                                    const Tensor& lse, const Tensor& mask, bool causal, double scale) {
  if (q.dtype() != DType::Float32) {
    CpuReferenceBackend::attention_backward(dq, dk, dv, dout, q, k, v, out, lse, mask, causal, scale);
    return;
  }
  const Problem p(q, k, v, mask, causal, scale);
  const BackwardInputs in{static_cast<const float*>(dout.raw_data()), static_cast<const float*>(out.raw_data()),
                          static_cast<const float*>(lse.raw_data())};
  float* dqd = static_cast<float*>(dq.raw_data());
  float* dkd = static_cast<float*>(dk.raw_data());
  float* dvd = static_cast<float*>(dv.raw_data());
  std::memset(dqd, 0, sizeof(float) * static_cast<std::size_t>(dq.numel()));
  std::memset(dkd, 0, sizeof(float) * static_cast<std::size_t>(dk.numel()));
  std::memset(dvd, 0, sizeof(float) * static_cast<std::size_t>(dv.numel()));
  const int threads = omp_get_max_threads();
  if (p.B >= threads) {
#pragma omp parallel for schedule(dynamic)
    for (std::int64_t b = 0; b < p.B; ++b) {
      const std::vector<float> delta = row_deltas(p, in, b);
      for (std::int64_t j0 = 0; j0 < p.S; j0 += kKeyBlock)
        backward_keys(p, in, b, j0, std::min(kKeyBlock, p.S - j0), delta, dqd + b * p.L * p.E, dkd + b * p.S * p.E,
                      dvd + b * p.S * p.Ev);
    }
    return;
  }
  const std::int64_t key_blocks = (p.S + kKeyBlock - 1) / kKeyBlock;
  for (std::int64_t b = 0; b < p.B; ++b) {
    const std::vector<float> delta = row_deltas(p, in, b);
    std::vector<std::vector<float>> partial(static_cast<std::size_t>(threads));
#pragma omp parallel
    {
      std::vector<float>& mine = partial[static_cast<std::size_t>(omp_get_thread_num())];
      mine.assign(static_cast<std::size_t>(p.L * p.E), 0.0f);
#pragma omp for schedule(dynamic)
      for (std::int64_t blk = 0; blk < key_blocks; ++blk) {
        const std::int64_t j0 = blk * kKeyBlock;
        backward_keys(p, in, b, j0, std::min(kKeyBlock, p.S - j0), delta, mine.data(), dkd + b * p.S * p.E,
                      dvd + b * p.S * p.Ev);
      }
    }
    float* target = dqd + b * p.L * p.E;
    for (const std::vector<float>& part : partial)
      for (std::size_t n = 0; n < part.size(); ++n) target[n] += part[n];
  }
}

}  // namespace loom::cpu
