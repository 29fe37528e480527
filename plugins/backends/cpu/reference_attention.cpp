// Reference scaled dot-product attention: one query row at a time, every score of the row
// computed and kept, the softmax in double (attention.cpp has the fused float32 kernel). The
// forward and backward follow ops.def's formulas literally; they are the truth the conformance
// rows compare the fused kernel against.
#include <cmath>
#include <limits>
#include <vector>

#include "backend.hpp"
#include "dtype_dispatch.hpp"

namespace loom::cpu {
namespace {

constexpr double kMinusInf = -std::numeric_limits<double>::infinity();

// The scores of one query row: scale·q_i·k_j with the mask and the causal rule applied. Reads
// q, k (dense (B, L, E), (B, S, E)) and the mask (B1, B2, L, S) through its strides.
template <typename T>
struct Scores {
  const Tensor& q;
  const Tensor& k;
  const Tensor& mask;
  bool causal;
  double scale;

  void row(std::int64_t b, std::int64_t i, std::vector<double>& s) const {
    const std::int64_t L = q.size(1), S = k.size(1), E = q.size(2);
    const T* qi = static_cast<const T*>(q.raw_data()) + (b * L + i) * E;
    const T* kb = static_cast<const T*>(k.raw_data()) + b * S * E;
    s.assign(static_cast<std::size_t>(S), 0.0);
    for (std::int64_t j = 0; j < S; ++j) {
      double dot = 0;
      for (std::int64_t e = 0; e < E; ++e) dot += double(qi[e]) * double(kb[j * E + e]);
      s[j] = scale * dot + mask_value(b, i, j);
      if (causal && j > i) s[j] = kMinusInf;
    }
  }

  double mask_value(std::int64_t b, std::int64_t i, std::int64_t j) const {
    if (!mask.defined()) return 0;
    const std::int64_t b2 = mask.size(1);
    const std::int64_t at = (b / b2) * mask.stride(0) + (b % b2) * mask.stride(1) + i * mask.stride(2) + j * mask.stride(3);
    if (mask.dtype() == DType::Bool) return static_cast<const bool*>(mask.raw_data())[at] ? 0.0 : kMinusInf;
    return double(static_cast<const T*>(mask.raw_data())[at]);
  }
};

// The softmax weights of a row from its scores and log-sum-exp (0 where the score is −∞).
void weights(const std::vector<double>& s, double lse, std::vector<double>& p) {
  p.resize(s.size());
  for (std::size_t j = 0; j < s.size(); ++j) p[j] = lse == kMinusInf ? 0.0 : std::exp(s[j] - lse);
}

double log_sum_exp(const std::vector<double>& s) {
  double m = kMinusInf;
  for (double x : s) m = std::max(m, x);
  if (m == kMinusInf) return kMinusInf;
  double sum = 0;
  for (double x : s) sum += std::exp(x - m);
  return m + std::log(sum);
}

}  // namespace

void CpuReferenceBackend::attention(const Tensor& out, const Tensor& lse, const Tensor& q, const Tensor& k,
                                    const Tensor& v, const Tensor& mask, bool causal, double scale) {
  visit_dtype<kernel_dtypes(Op::attention)>(Op::attention, q.dtype(), [&]<typename T>(TypeTag<T>) {
    const std::int64_t B = q.size(0), L = q.size(1), S = k.size(1), Ev = v.size(2);
    const Scores<T> scores{q, k, mask, causal, scale};
    const T* vd = static_cast<const T*>(v.raw_data());
    T* od = static_cast<T*>(out.raw_data());
    T* ld = static_cast<T*>(lse.raw_data());
    std::vector<double> s, p;
    for (std::int64_t b = 0; b < B; ++b) {
      for (std::int64_t i = 0; i < L; ++i) {
        scores.row(b, i, s);
        const double row_lse = log_sum_exp(s);
        weights(s, row_lse, p);
        for (std::int64_t c = 0; c < Ev; ++c) {
          double acc = 0;
          for (std::int64_t j = 0; j < S; ++j) acc += p[j] * double(vd[(b * S + j) * Ev + c]);
          od[(b * L + i) * Ev + c] = static_cast<T>(acc);
        }
        ld[b * L + i] = static_cast<T>(row_lse);
      }
    }
  });
}

void CpuReferenceBackend::attention_backward(const Tensor& dq, const Tensor& dk, const Tensor& dv, const Tensor& dout,
                                             const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                                             const Tensor& lse, const Tensor& mask, bool causal, double scale) {
  visit_dtype<kernel_dtypes(Op::attention_backward)>(Op::attention_backward, q.dtype(), [&]<typename T>(TypeTag<T>) {
    const std::int64_t B = q.size(0), L = q.size(1), S = k.size(1), E = q.size(2), Ev = v.size(2);
    const Scores<T> scores{q, k, mask, causal, scale};
    auto data = [](const Tensor& t) { return static_cast<const T*>(t.raw_data()); };
    const T *qd = data(q), *kd = data(k), *vd = data(v), *od = data(out), *gd = data(dout), *ld = data(lse);
    // Sums in double over the whole (B, ·, ·) tensors, written once at the end.
    std::vector<double> gq(q.numel(), 0.0), gk(k.numel(), 0.0), gv(v.numel(), 0.0);
    std::vector<double> s, p;
    for (std::int64_t b = 0; b < B; ++b) {
      for (std::int64_t i = 0; i < L; ++i) {
        scores.row(b, i, s);
        weights(s, double(ld[b * L + i]), p);
        const T* g = gd + (b * L + i) * Ev;
        double d = 0;  // rowsum(dout ∘ out)
        for (std::int64_t c = 0; c < Ev; ++c) d += double(g[c]) * double(od[(b * L + i) * Ev + c]);
        for (std::int64_t j = 0; j < S; ++j) {
          double dpj = 0;
          for (std::int64_t c = 0; c < Ev; ++c) {
            dpj += double(g[c]) * double(vd[(b * S + j) * Ev + c]);
            gv[(b * S + j) * Ev + c] += p[j] * double(g[c]);
          }
          const double ds = p[j] * (dpj - d);
          for (std::int64_t e = 0; e < E; ++e) {
            gq[(b * L + i) * E + e] += scale * ds * double(kd[(b * S + j) * E + e]);
            gk[(b * S + j) * E + e] += scale * ds * double(qd[(b * L + i) * E + e]);
          }
        }
      }
    }
    auto write = [](const Tensor& t, const std::vector<double>& g) {
      T* td = static_cast<T*>(t.raw_data());
      for (std::size_t n = 0; n < g.size(); ++n) td[n] = static_cast<T>(g[n]);
    };
    write(dq, gq);
    write(dk, gk);
    write(dv, gv);
  });
}

}  // namespace loom::cpu
