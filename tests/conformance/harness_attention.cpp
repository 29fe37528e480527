// Attention primitives: the fused float32 kernel ("cpu", FlashAttention-2 tiles) vs the reference,
// and the reference against softmax attention computed here in double from its definition.
// Cases cross the kernel's 64-row and 64-key block edges (L = 70, S = 130), are causal with L < S
// and L > S, carry bool masks broadcast over the heads (stride 0, a key-padding mask) and whole
// additive float masks, and rows whose every key is masked (output 0, lse −inf, no gradient).
#include <cmath>
#include <limits>

#include "conformance.hpp"
#include "loom/backend.hpp"
#include "loom/tensor_ops.hpp"

namespace conformance {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

enum class MaskKind { None, KeyPadding, Additive };

struct AttentionCase {
  const char* what;
  i64 B1, B2, L, S, E, Ev;
  MaskKind mask;
  bool causal;
};

const std::vector<AttentionCase>& attention_cases() {
  static const std::vector<AttentionCase> cases = {
      {"small, no mask", 1, 2, 5, 7, 4, 3, MaskKind::None, false},
      {"block edges, no mask", 2, 1, 70, 130, 16, 8, MaskKind::None, false},
      {"causal, L < S", 1, 2, 9, 20, 8, 8, MaskKind::None, true},
      {"causal, L > S, block edges", 1, 1, 130, 70, 8, 4, MaskKind::None, true},
      {"key padding (bool, stride 0 over heads and queries), a fully masked batch", 2, 3, 6, 9, 4, 5,
       MaskKind::KeyPadding, false},
      {"additive float mask with −inf entries, block edges", 1, 2, 66, 67, 8, 8, MaskKind::Additive, false},
  };
  return cases;
}

// The mask of a case as (B1, B2, L, S): key padding is (B1, 1, 1, S) expanded (batch b1 keeps its
// first S − 2·b1 keys; the last batch keeps none, so its rows are fully masked); the additive mask
// is dense, −inf on every seventh entry and on all of query row 1.
Tensor make_mask(const AttentionCase& c, DType dtype) {
  if (c.mask == MaskKind::None) return Tensor();
  if (c.mask == MaskKind::KeyPadding) {
    std::vector<bool> keep;
    for (i64 b1 = 0; b1 < c.B1; ++b1)
      for (i64 j = 0; j < c.S; ++j) keep.push_back(b1 + 1 < c.B1 && j < c.S - 2 * b1);
    std::vector<std::uint8_t> bytes(keep.begin(), keep.end());
    return loom::from_vector(bytes, {c.B1, 1, 1, c.S}).to(DType::Bool).expand({c.B1, c.B2, c.L, c.S});
  }
  std::vector<double> m(std::size_t(c.B1 * c.B2 * c.L * c.S));
  for (std::size_t n = 0; n < m.size(); ++n) {
    const i64 i = i64(n / std::size_t(c.S)) % c.L;
    m[n] = n % 7 == 3 || i == 1 ? -kInf : 0.25 * double(n % 5) - 0.5;
  }
  return loom::from_vector(m, {c.B1, c.B2, c.L, c.S}).to(dtype);
}

// Softmax attention by its definition, in double, from row-major host copies.
struct Expected {
  std::vector<double> out, lse, dq, dk, dv;
};
Expected by_definition(const AttentionCase& c, const Tensor& mask, double scale, const std::vector<double>& q,
                       const std::vector<double>& k, const std::vector<double>& v, const std::vector<double>& g) {
  const i64 B = c.B1 * c.B2;
  Expected r{std::vector<double>(std::size_t(B * c.L * c.Ev), 0.0), std::vector<double>(std::size_t(B * c.L)),
             std::vector<double>(q.size(), 0.0), std::vector<double>(k.size(), 0.0), std::vector<double>(v.size(), 0.0)};
  const std::vector<double> hm = mask.defined() ? host(mask.contiguous()) : std::vector<double>();
  std::vector<double> s(std::size_t(c.S)), p(std::size_t(c.S)), dp(std::size_t(c.S));
  for (i64 b = 0; b < B; ++b) {
    for (i64 i = 0; i < c.L; ++i) {
      double m = -kInf;
      for (i64 j = 0; j < c.S; ++j) {
        double dot = 0;
        for (i64 e = 0; e < c.E; ++e) dot += q[std::size_t((b * c.L + i) * c.E + e)] * k[std::size_t((b * c.S + j) * c.E + e)];
        s[std::size_t(j)] = scale * dot;
        if (mask.defined()) {
          const double mv = hm[std::size_t((b * c.L + i) * c.S + j)];
          s[std::size_t(j)] = c.mask == MaskKind::KeyPadding ? (mv != 0 ? s[std::size_t(j)] : -kInf) : s[std::size_t(j)] + mv;
        }
        if (c.causal && j > i) s[std::size_t(j)] = -kInf;
        m = std::max(m, s[std::size_t(j)]);
      }
      double total = 0;
      for (i64 j = 0; j < c.S; ++j) total += m == -kInf ? 0.0 : std::exp(s[std::size_t(j)] - m);
      r.lse[std::size_t(b * c.L + i)] = m == -kInf ? -kInf : m + std::log(total);
      for (i64 j = 0; j < c.S; ++j) p[std::size_t(j)] = m == -kInf ? 0.0 : std::exp(s[std::size_t(j)] - m) / total;
      // out = P·v; dv += Pᵀ·g; dP = g·vᵀ; dS = P∘(dP − Σ P∘dP); dq = scale·dS·k; dk += scale·dSᵀ·q
      double weighted = 0;
      for (i64 j = 0; j < c.S; ++j) {
        dp[std::size_t(j)] = 0;
        for (i64 e = 0; e < c.Ev; ++e) {
          const double vj = v[std::size_t((b * c.S + j) * c.Ev + e)], gi = g[std::size_t((b * c.L + i) * c.Ev + e)];
          r.out[std::size_t((b * c.L + i) * c.Ev + e)] += p[std::size_t(j)] * vj;
          r.dv[std::size_t((b * c.S + j) * c.Ev + e)] += p[std::size_t(j)] * gi;
          dp[std::size_t(j)] += gi * vj;
        }
        weighted += p[std::size_t(j)] * dp[std::size_t(j)];
      }
      for (i64 j = 0; j < c.S; ++j) {
        const double ds = p[std::size_t(j)] * (dp[std::size_t(j)] - weighted);
        for (i64 e = 0; e < c.E; ++e) {
          r.dq[std::size_t((b * c.L + i) * c.E + e)] += scale * ds * k[std::size_t((b * c.S + j) * c.E + e)];
          r.dk[std::size_t((b * c.S + j) * c.E + e)] += scale * ds * q[std::size_t((b * c.L + i) * c.E + e)];
        }
      }
    }
  }
  return r;
}

void run_attention_case(Op op, DType dtype, const AttentionCase& c, const OpSpec& spec) {
  const i64 B = c.B1 * c.B2;
  const std::string what = describe(op, dtype, Layout::Contiguous, {B, c.L, c.S, c.E}) + " " + c.what;
  INFO(what);
  const double scale = 1 / std::sqrt(double(c.E));
  const Tensor q = make_input({B, c.L, c.E}, dtype, Layout::Contiguous, spec.a, 51);
  const Tensor k = make_input({B, c.S, c.E}, dtype, Layout::Contiguous, spec.a, 52);
  const Tensor v = make_input({B, c.S, c.Ev}, dtype, Layout::Contiguous, spec.a, 53);
  const Tensor g = make_input({B, c.L, c.Ev}, dtype, Layout::Contiguous, spec.a, 54);
  const Tensor mask = make_mask(c, dtype);
  const Expected expected = by_definition(c, mask, scale, host(q), host(k), host(v), host(g));
  const Tolerance tol = tolerance(spec, dtype);
  // The sums run over S keys (and over L queries for dk, dv): the absolute error grows with them.
  Tolerance sum_tol = tol;
  sum_tol.atol *= double(std::max(c.L, c.S));

  Tensor ref_out = make_output({B, c.L, c.Ev}, dtype, Layout::Contiguous), ref_lse = make_output({B, c.L}, dtype, Layout::Contiguous);
  reference().attention(ref_out, ref_lse, q, k, v, mask, c.causal, scale);
  if (op == Op::attention) {
    Tensor out = make_output({B, c.L, c.Ev}, dtype, Layout::Contiguous), lse = make_output({B, c.L}, dtype, Layout::Contiguous);
    fast().attention(out, lse, q, k, v, mask, c.causal, scale);
    check_values(host(out), host(ref_out), sum_tol, what + ": out, fast vs reference");
    check_values(host(lse), host(ref_lse), tol, what + ": lse, fast vs reference");
    check_values(host(ref_out), expected.out, sum_tol, what + ": out, reference vs definition");
    check_values(host(ref_lse), expected.lse, tol, what + ": lse, reference vs definition");
    return;
  }
  Tensor dq = make_output(q.sizes(), dtype, Layout::Contiguous), dk = make_output(k.sizes(), dtype, Layout::Contiguous),
         dv = make_output(v.sizes(), dtype, Layout::Contiguous);
  Tensor rq = make_output(q.sizes(), dtype, Layout::Contiguous), rk = make_output(k.sizes(), dtype, Layout::Contiguous),
         rv = make_output(v.sizes(), dtype, Layout::Contiguous);
  fast().attention_backward(dq, dk, dv, g, q, k, v, ref_out, ref_lse, mask, c.causal, scale);
  reference().attention_backward(rq, rk, rv, g, q, k, v, ref_out, ref_lse, mask, c.causal, scale);
  check_values(host(dq), host(rq), sum_tol, what + ": dq, fast vs reference");
  check_values(host(dk), host(rk), sum_tol, what + ": dk, fast vs reference");
  check_values(host(dv), host(rv), sum_tol, what + ": dv, fast vs reference");
  check_values(host(rq), expected.dq, sum_tol, what + ": dq, reference vs definition");
  check_values(host(rk), expected.dk, sum_tol, what + ": dk, reference vs definition");
  check_values(host(rv), expected.dv, sum_tol, what + ": dv, reference vs definition");
}

}  // namespace

void run_attention(Op op) {
  const OpSpec* spec = find_spec(op);
  REQUIRE(spec != nullptr);
  for (DType dtype : dtypes_to_test(op, *spec))
    for (const AttentionCase& c : attention_cases()) run_attention_case(op, dtype, c, *spec);
}

}  // namespace conformance
