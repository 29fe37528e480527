// Normalisation primitives: fast ("cpu", oneDNN for float32) vs reference, and the reference
// against the defining formulas computed here in double on row-major host copies.
//  - batch_norm(_backward): inputs contiguous (NCHW) and channels-last, with and without weight
//    and bias, on (N, C, H, W) shapes and a (N, C) input seen as (N, C, 1, 1).
//  - layer_norm(_backward): rows (M, N) contiguous (oneDNN's layout) and transposed (the
//    reference's strides), with and without weight and bias, from one column (variance 0) to
//    rows of 1024 (a group norm's view).
#include <cmath>

#include "conformance.hpp"
#include "loom/backend.hpp"

namespace conformance {
namespace {

struct NormCase {
  const char* what;
  i64 N, C, H, W;
  bool affine;
};

const std::vector<NormCase>& norm_cases() {
  static const std::vector<NormCase> cases = {
      {"small, weight and bias", 3, 4, 5, 6, true},
      {"no weight, no bias", 2, 3, 4, 3, false},
      {"(N, C) as (N, C, 1, 1)", 16, 5, 1, 1, true},
      {"ResNet-like 16 channels, 14x14", 8, 16, 14, 14, true},
      {"one channel", 4, 1, 3, 3, true},
  };
  return cases;
}

// Per-channel mean and biased variance of a row-major (N, C, H, W) host copy.
struct Stats {
  std::vector<double> mean, var;
};
Stats naive_stats(const NormCase& c, const std::vector<double>& x) {
  Stats s{std::vector<double>(std::size_t(c.C), 0.0), std::vector<double>(std::size_t(c.C), 0.0)};
  const double m = double(c.N * c.H * c.W);
  auto at = [&](i64 n, i64 ch, i64 hw) { return x[std::size_t((n * c.C + ch) * c.H * c.W + hw)]; };
  for (i64 ch = 0; ch < c.C; ++ch) {
    for (i64 n = 0; n < c.N; ++n)
      for (i64 hw = 0; hw < c.H * c.W; ++hw) s.mean[std::size_t(ch)] += at(n, ch, hw) / m;
    for (i64 n = 0; n < c.N; ++n)
      for (i64 hw = 0; hw < c.H * c.W; ++hw) {
        const double d = at(n, ch, hw) - s.mean[std::size_t(ch)];
        s.var[std::size_t(ch)] += d * d / m;
      }
  }
  return s;
}

void run_batch_case(Op op, DType dtype, Layout layout, const NormCase& c, const OpSpec& spec) {
  const std::string what = describe(op, dtype, layout, {c.N, c.C, c.H, c.W}) + " " + c.what;
  INFO(what);
  const double eps = 1e-3;
  const Shape xs{c.N, c.C, c.H, c.W}, cs{c.C};
  const Tensor x = make_input(xs, dtype, layout, spec.a, 31);
  const Tensor w = c.affine ? make_input(cs, dtype, Layout::Contiguous, spec.a, 32) : Tensor();
  const Tensor b = c.affine ? make_input(cs, dtype, Layout::Contiguous, spec.a, 33) : Tensor();
  const Tensor g = make_input(xs, dtype, layout, spec.a, 34);
  const std::vector<double> hx = host(x), hg = host(g);
  const std::vector<double> hw = c.affine ? host(w) : std::vector<double>(std::size_t(c.C), 1.0);
  const std::vector<double> hb = c.affine ? host(b) : std::vector<double>(std::size_t(c.C), 0.0);
  const Stats s = naive_stats(c, hx);
  const Tolerance tol = tolerance(spec, dtype);
  const i64 hw_size = c.H * c.W;
  auto channel_of = [&](std::size_t i) { return std::size_t((i64(i) / hw_size) % c.C); };

  // The reference's own statistics feed the backward of both backends.
  Tensor ref_y = make_output(xs, dtype, layout), ref_mean = make_output(cs, dtype, Layout::Contiguous),
         ref_var = make_output(cs, dtype, Layout::Contiguous);
  reference().batch_norm(ref_y, ref_mean, ref_var, x, w, b, eps);
  if (op == Op::batch_norm) {
    Tensor y = make_output(xs, dtype, layout), mean = make_output(cs, dtype, Layout::Contiguous),
           var = make_output(cs, dtype, Layout::Contiguous);
    fast().batch_norm(y, mean, var, x, w, b, eps);
    check_values(host(y), host(ref_y), tol, what + ": y, fast vs reference");
    check_values(host(mean), host(ref_mean), tol, what + ": mean, fast vs reference");
    check_values(host(var), host(ref_var), tol, what + ": var, fast vs reference");
    std::vector<double> expected(hx.size());
    for (std::size_t i = 0; i < hx.size(); ++i) {
      const std::size_t ch = channel_of(i);
      expected[i] = (hx[i] - s.mean[ch]) / std::sqrt(s.var[ch] + eps) * hw[ch] + hb[ch];
    }
    check_values(host(ref_y), expected, tol, what + ": y, reference vs formula");
    check_values(host(ref_mean), s.mean, tol, what + ": mean, reference vs formula");
    check_values(host(ref_var), s.var, tol, what + ": var, reference vs formula");
    return;
  }
  // batch_norm_backward, with and without the parameter gradients.
  for (bool parameter_grads : {true, false}) {
    Tensor dx = make_output(xs, dtype, layout), ref_dx = make_output(xs, dtype, layout);
    Tensor dw, db, ref_dw, ref_db;
    if (parameter_grads) {
      dw = make_output(cs, dtype, Layout::Contiguous), db = make_output(cs, dtype, Layout::Contiguous);
      ref_dw = make_output(cs, dtype, Layout::Contiguous), ref_db = make_output(cs, dtype, Layout::Contiguous);
    }
    fast().batch_norm_backward(dx, dw, db, g, x, ref_mean, ref_var, w, eps);
    reference().batch_norm_backward(ref_dx, ref_dw, ref_db, g, x, ref_mean, ref_var, w, eps);
    // Sums of M products: the absolute error grows with M.
    Tolerance sum_tol = tol;
    sum_tol.atol *= double(c.N * hw_size);
    check_values(host(dx), host(ref_dx), tol, what + ": dx, fast vs reference");
    if (!parameter_grads) continue;
    check_values(host(dw), host(ref_dw), sum_tol, what + ": dweight, fast vs reference");
    check_values(host(db), host(ref_db), sum_tol, what + ": dbias, fast vs reference");
    std::vector<double> sum_g(std::size_t(c.C), 0.0), sum_gx(std::size_t(c.C), 0.0), xhat(hx.size());
    for (std::size_t i = 0; i < hx.size(); ++i) {
      const std::size_t ch = channel_of(i);
      xhat[i] = (hx[i] - s.mean[ch]) / std::sqrt(s.var[ch] + eps);
      sum_g[ch] += hg[i];
      sum_gx[ch] += hg[i] * xhat[i];
    }
    std::vector<double> expected(hx.size());
    const double m = double(c.N * hw_size);
    for (std::size_t i = 0; i < hx.size(); ++i) {
      const std::size_t ch = channel_of(i);
      expected[i] = hw[ch] / std::sqrt(s.var[ch] + eps) * (hg[i] - sum_g[ch] / m - xhat[i] * sum_gx[ch] / m);
    }
    check_values(host(ref_dx), expected, tol, what + ": dx, reference vs formula");
    check_values(host(ref_dw), sum_gx, sum_tol, what + ": dweight, reference vs formula");
    check_values(host(ref_db), sum_g, sum_tol, what + ": dbias, reference vs formula");
  }
}

struct RowsCase {
  const char* what;
  i64 M, N;
  bool affine;
};

const std::vector<RowsCase>& rows_cases() {
  static const std::vector<RowsCase> cases = {
      {"small, weight and bias", 3, 5, true},
      {"no weight, no bias", 4, 7, false},
      {"one column: variance 0, y = bias", 5, 1, true},
      {"one row", 1, 33, true},
      {"transformer-like rows of 256", 40, 256, true},
      {"group-norm-like rows of 1024, no affine", 12, 1024, false},
  };
  return cases;
}

void run_rows_case(Op op, DType dtype, Layout layout, const RowsCase& c, const OpSpec& spec) {
  const std::string what = describe(op, dtype, layout, {c.M, c.N}) + " " + c.what;
  INFO(what);
  const double eps = 1e-3;
  const Shape xs{c.M, c.N}, rs{c.M}, cs{c.N};
  const Tensor x = make_input(xs, dtype, layout, spec.a, 41);
  const Tensor w = c.affine ? make_input(cs, dtype, Layout::Contiguous, spec.a, 42) : Tensor();
  const Tensor b = c.affine ? make_input(cs, dtype, Layout::Contiguous, spec.a, 43) : Tensor();
  const Tensor g = make_input(xs, dtype, layout, spec.a, 44);
  const std::vector<double> hx = host(x), hg = host(g);
  const std::vector<double> hw = c.affine ? host(w) : std::vector<double>(std::size_t(c.N), 1.0);
  const std::vector<double> hb = c.affine ? host(b) : std::vector<double>(std::size_t(c.N), 0.0);
  const Tolerance tol = tolerance(spec, dtype);
  auto at = [&](const std::vector<double>& v, i64 m, i64 n) { return v[std::size_t(m * c.N + n)]; };

  // Row statistics and x̂ by the definition.
  std::vector<double> mean(std::size_t(c.M), 0.0), var(std::size_t(c.M), 0.0), xhat(hx.size());
  for (i64 m = 0; m < c.M; ++m) {
    for (i64 n = 0; n < c.N; ++n) mean[std::size_t(m)] += at(hx, m, n) / double(c.N);
    for (i64 n = 0; n < c.N; ++n) {
      const double d = at(hx, m, n) - mean[std::size_t(m)];
      var[std::size_t(m)] += d * d / double(c.N);
    }
    for (i64 n = 0; n < c.N; ++n)
      xhat[std::size_t(m * c.N + n)] = (at(hx, m, n) - mean[std::size_t(m)]) / std::sqrt(var[std::size_t(m)] + eps);
  }

  // The reference's own statistics feed the backward of both backends.
  Tensor ref_y = make_output(xs, dtype, layout), ref_mean = make_output(rs, dtype, Layout::Contiguous),
         ref_var = make_output(rs, dtype, Layout::Contiguous);
  reference().layer_norm(ref_y, ref_mean, ref_var, x, w, b, eps);
  if (op == Op::layer_norm) {
    Tensor y = make_output(xs, dtype, layout), fast_mean = make_output(rs, dtype, Layout::Contiguous),
           fast_var = make_output(rs, dtype, Layout::Contiguous);
    fast().layer_norm(y, fast_mean, fast_var, x, w, b, eps);
    check_values(host(y), host(ref_y), tol, what + ": y, fast vs reference");
    check_values(host(fast_mean), host(ref_mean), tol, what + ": mean, fast vs reference");
    check_values(host(fast_var), host(ref_var), tol, what + ": var, fast vs reference");
    std::vector<double> expected(hx.size());
    for (i64 m = 0; m < c.M; ++m)
      for (i64 n = 0; n < c.N; ++n)
        expected[std::size_t(m * c.N + n)] = at(xhat, m, n) * hw[std::size_t(n)] + hb[std::size_t(n)];
    check_values(host(ref_y), expected, tol, what + ": y, reference vs formula");
    check_values(host(ref_mean), mean, tol, what + ": mean, reference vs formula");
    check_values(host(ref_var), var, tol, what + ": var, reference vs formula");
    return;
  }
  // layer_norm_backward, with and without the parameter gradients.
  for (bool parameter_grads : {true, false}) {
    Tensor dx = make_output(xs, dtype, layout), ref_dx = make_output(xs, dtype, layout);
    Tensor dw, db, ref_dw, ref_db;
    if (parameter_grads) {
      dw = make_output(cs, dtype, Layout::Contiguous), db = make_output(cs, dtype, Layout::Contiguous);
      ref_dw = make_output(cs, dtype, Layout::Contiguous), ref_db = make_output(cs, dtype, Layout::Contiguous);
    }
    fast().layer_norm_backward(dx, dw, db, g, x, ref_mean, ref_var, w, eps);
    reference().layer_norm_backward(ref_dx, ref_dw, ref_db, g, x, ref_mean, ref_var, w, eps);
    // The parameter gradients are sums over the M rows: the absolute error grows with M.
    Tolerance sum_tol = tol;
    sum_tol.atol *= double(c.M);
    check_values(host(dx), host(ref_dx), tol, what + ": dx, fast vs reference");
    if (parameter_grads) {
      check_values(host(dw), host(ref_dw), sum_tol, what + ": dweight, fast vs reference");
      check_values(host(db), host(ref_db), sum_tol, what + ": dbias, fast vs reference");
    }
    // dx = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))/σ per row, ĝ = dy·weight; dweight = Σ dy·x̂, dbias = Σ dy over rows.
    std::vector<double> expected(hx.size()), sum_gx(std::size_t(c.N), 0.0), sum_g(std::size_t(c.N), 0.0);
    for (i64 m = 0; m < c.M; ++m) {
      double mean_gw = 0, mean_gw_xhat = 0;
      for (i64 n = 0; n < c.N; ++n) {
        const double gw = at(hg, m, n) * hw[std::size_t(n)];
        mean_gw += gw / double(c.N);
        mean_gw_xhat += gw * at(xhat, m, n) / double(c.N);
        sum_gx[std::size_t(n)] += at(hg, m, n) * at(xhat, m, n);
        sum_g[std::size_t(n)] += at(hg, m, n);
      }
      const double invstd = 1 / std::sqrt(var[std::size_t(m)] + eps);
      for (i64 n = 0; n < c.N; ++n)
        expected[std::size_t(m * c.N + n)] =
            invstd * (at(hg, m, n) * hw[std::size_t(n)] - mean_gw - at(xhat, m, n) * mean_gw_xhat);
    }
    check_values(host(ref_dx), expected, tol, what + ": dx, reference vs formula");
    if (!parameter_grads) continue;
    check_values(host(ref_dw), sum_gx, sum_tol, what + ": dweight, reference vs formula");
    check_values(host(ref_db), sum_g, sum_tol, what + ": dbias, reference vs formula");
  }
}

}  // namespace

void run_normalization(Op op) {
  const OpSpec* spec = find_spec(op);
  REQUIRE(spec != nullptr);
  const bool rows = op == Op::layer_norm || op == Op::layer_norm_backward;
  for (DType dtype : dtypes_to_test(op, *spec)) {
    if (rows) {
      for (const RowsCase& c : rows_cases())
        for (Layout layout : {Layout::Contiguous, Layout::Transposed}) run_rows_case(op, dtype, layout, c, *spec);
      continue;
    }
    for (const NormCase& c : norm_cases())
      for (Layout layout : {Layout::Contiguous, Layout::ChannelsLast}) run_batch_case(op, dtype, layout, c, *spec);
  }
}

}  // namespace conformance
