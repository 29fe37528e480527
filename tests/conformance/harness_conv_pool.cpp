// Convolution and pooling primitives: fast ("cpu", oneDNN for float32) vs reference, with
// inputs contiguous (NCHW) and channels-last, over groups, strides, padding and dilation; the
// reference forwards against plain loops written here, and the backward primitives against the
// forwards through their adjoint identities
//   ⟨conv(x, w), g⟩ = ⟨x, backward_data(g, w)⟩ = ⟨w, backward_weight(g, x)⟩,
//   ⟨avg_pool(x), g⟩ = ⟨x, avg_pool_backward(g)⟩.
#include <cmath>
#include <limits>

#include "conformance.hpp"
#include "loom/backend.hpp"

namespace conformance {
namespace {

const OpSpec& spec_of(Op op) {
  const OpSpec* spec = find_spec(op);
  REQUIRE(spec != nullptr);
  return *spec;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

struct ConvCase {
  const char* what;
  i64 N, C, H, W, O, KH, KW;
  loom::Conv2dParams p;
  bool bias;
};

loom::Conv2dParams conv_params(i64 sh, i64 sw, i64 ph, i64 pw, i64 dh, i64 dw, i64 groups) {
  loom::Conv2dParams p;
  p.stride[0] = sh, p.stride[1] = sw, p.padding[0] = ph, p.padding[1] = pw;
  p.dilation[0] = dh, p.dilation[1] = dw, p.groups = groups;
  return p;
}

const std::vector<ConvCase>& conv_cases() {
  static const std::vector<ConvCase> cases = {
      {"3x3, padding 1, bias", 2, 3, 7, 7, 4, 3, 3, conv_params(1, 1, 1, 1, 1, 1, 1), true},
      {"stride (2, 1), padding (1, 0), dilation 2", 2, 4, 9, 8, 6, 3, 2, conv_params(2, 1, 1, 0, 2, 2, 1), true},
      {"groups 2, no bias", 2, 4, 6, 6, 6, 3, 3, conv_params(1, 1, 1, 1, 1, 1, 2), false},
      {"depthwise, stride 2", 1, 4, 5, 5, 4, 3, 3, conv_params(2, 2, 1, 1, 1, 1, 4), true},
      {"1x1", 3, 5, 4, 4, 7, 1, 1, conv_params(1, 1, 0, 0, 1, 1, 1), true},
      {"stride 3 leaves the last rows unread", 1, 2, 8, 8, 3, 3, 3, conv_params(3, 3, 0, 0, 1, 1, 1), false},
      {"ResNet-like 16→16, 14x14", 4, 16, 14, 14, 16, 3, 3, conv_params(1, 1, 1, 1, 1, 1, 1), true},
  };
  return cases;
}

i64 out_size(i64 in, i64 k, i64 s, i64 p, i64 d) { return (in + 2 * p - d * (k - 1) - 1) / s + 1; }

// The defining sum, on row-major host copies.
std::vector<double> naive_conv(const ConvCase& c, const std::vector<double>& x, const std::vector<double>& w,
                               const std::vector<double>& b, i64 OH, i64 OW) {
  const i64 Cg = c.C / c.p.groups, Og = c.O / c.p.groups;
  std::vector<double> out(std::size_t(c.N * c.O * OH * OW));
  for (i64 n = 0; n < c.N; ++n)
    for (i64 o = 0; o < c.O; ++o)
      for (i64 oh = 0; oh < OH; ++oh)
        for (i64 ow = 0; ow < OW; ++ow) {
          double acc = c.bias ? b[std::size_t(o)] : 0.0;
          for (i64 ci = 0; ci < Cg; ++ci)
            for (i64 kh = 0; kh < c.KH; ++kh)
              for (i64 kw = 0; kw < c.KW; ++kw) {
                const i64 ih = oh * c.p.stride[0] - c.p.padding[0] + kh * c.p.dilation[0];
                const i64 iw = ow * c.p.stride[1] - c.p.padding[1] + kw * c.p.dilation[1];
                if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;
                const i64 cin = (o / Og) * Cg + ci;
                acc += x[std::size_t(((n * c.C + cin) * c.H + ih) * c.W + iw)] *
                       w[std::size_t(((o * Cg + ci) * c.KH + kh) * c.KW + kw)];
              }
          out[std::size_t(((n * c.O + o) * OH + oh) * OW + ow)] = acc;
        }
  return out;
}

void run_conv(Op op) {
  const OpSpec& spec = spec_of(op);
  for (DType dtype : dtypes_to_test(op, spec)) {
    for (const ConvCase& c : conv_cases()) {
      for (Layout layout : {Layout::Contiguous, Layout::ChannelsLast}) {
        const std::string what = describe(op, dtype, layout, {c.N, c.C, c.H, c.W}) + " " + c.what;
        INFO(what);
        const i64 OH = out_size(c.H, c.KH, c.p.stride[0], c.p.padding[0], c.p.dilation[0]);
        const i64 OW = out_size(c.W, c.KW, c.p.stride[1], c.p.padding[1], c.p.dilation[1]);
        const Shape xs{c.N, c.C, c.H, c.W}, ws{c.O, c.C / c.p.groups, c.KH, c.KW}, os{c.N, c.O, OH, OW};
        const Tensor x = make_input(xs, dtype, layout, spec.a, 21);
        const Tensor w = make_input(ws, dtype, layout, spec.a, 22);
        const Tensor g = make_input(os, dtype, layout, spec.a, 23);
        const Tensor b = c.bias ? make_input({c.O}, dtype, Layout::Contiguous, spec.a, 24) : Tensor();
        Tolerance tol = tolerance(spec, dtype);
        tol.atol *= double(ws.numel() / c.O + c.N * OH * OW);  // |inputs| ≤ 1: error grows with the sum's length
        if (op == Op::conv2d) {
          Tensor fast_out = make_output(os, dtype, layout), ref_out = make_output(os, dtype, layout);
          fast().conv2d(fast_out, x, w, b, c.p);
          reference().conv2d(ref_out, x, w, b, c.p);
          check_values(host(fast_out), host(ref_out), tol, what + ": fast vs reference");
          check_values(host(ref_out), naive_conv(c, host(x), host(w), c.bias ? host(b) : std::vector<double>{}, OH, OW),
                       tol, what + ": reference vs loop");
        } else if (op == Op::conv2d_backward_data) {
          Tensor fast_dx = make_output(xs, dtype, layout), ref_dx = make_output(xs, dtype, layout);
          fast().conv2d_backward_data(fast_dx, g, w, c.p);
          reference().conv2d_backward_data(ref_dx, g, w, c.p);
          check_values(host(fast_dx), host(ref_dx), tol, what + ": fast vs reference");
          ConvCase nb = c;
          nb.bias = false;
          const double lhs = dot(naive_conv(nb, host(x), host(w), {}, OH, OW), host(g));
          CHECK(std::abs(lhs - dot(host(x), host(ref_dx))) <= tol.atol * 10 + tol.rtol * std::abs(lhs));
        } else {
          Tensor fast_dw = make_output(ws, dtype, layout), ref_dw = make_output(ws, dtype, layout);
          // The cases with a bias ask for its gradient too (one pass on oneDNN).
          Tensor fast_db = c.bias ? make_output({c.O}, dtype, Layout::Contiguous) : Tensor();
          Tensor ref_db = c.bias ? make_output({c.O}, dtype, Layout::Contiguous) : Tensor();
          fast().conv2d_backward_weight(fast_dw, fast_db, g, x, c.p);
          reference().conv2d_backward_weight(ref_dw, ref_db, g, x, c.p);
          check_values(host(fast_dw), host(ref_dw), tol, what + ": fast vs reference");
          if (c.bias) {
            std::vector<double> expected_db(std::size_t(c.O), 0.0);
            const auto gs = host(g);  // logical (N, O, OH, OW) order
            for (std::size_t i = 0; i < gs.size(); ++i) expected_db[std::size_t((i64(i) / (OH * OW)) % c.O)] += gs[i];
            check_values(host(fast_db), host(ref_db), tol, what + ": dbias, fast vs reference");
            check_values(host(ref_db), expected_db, tol, what + ": dbias, reference vs loop");
          }
          ConvCase nb = c;
          nb.bias = false;
          const double lhs = dot(naive_conv(nb, host(x), host(w), {}, OH, OW), host(g));
          CHECK(std::abs(lhs - dot(host(w), host(ref_dw))) <= tol.atol * 10 + tol.rtol * std::abs(lhs));
        }
      }
    }
  }
}

struct PoolCase {
  const char* what;
  i64 N, C, H, W;
  loom::Pool2dParams p;
};

loom::Pool2dParams pool_params(i64 k0, i64 k1, i64 s0, i64 s1, i64 p0, i64 p1, i64 d, bool include_pad = true) {
  loom::Pool2dParams p;
  p.kernel[0] = k0, p.kernel[1] = k1, p.stride[0] = s0, p.stride[1] = s1;
  p.padding[0] = p0, p.padding[1] = p1, p.dilation[0] = p.dilation[1] = d;
  p.count_include_pad = include_pad;
  return p;
}

std::vector<PoolCase> pool_cases(bool max) {
  std::vector<PoolCase> cases = {
      {"2x2 stride 2", 2, 3, 6, 6, pool_params(2, 2, 2, 2, 0, 0, 1)},
      {"3x3 stride 2 padding 1", 2, 3, 7, 6, pool_params(3, 3, 2, 2, 1, 1, 1)},
      {"3x2 stride (1, 2) padding (1, 0), count_include_pad false", 1, 4, 5, 7, pool_params(3, 2, 1, 2, 1, 0, 1, false)},
      {"large, 3x3 stride 2", 8, 16, 16, 16, pool_params(3, 3, 2, 2, 1, 1, 1)},
  };
  if (max) cases.push_back({"dilation 2", 2, 3, 9, 9, pool_params(3, 3, 2, 2, 1, 1, 2)});
  return cases;
}

// Max pooling on row-major host copies: values and the first-maximum positions.
void naive_max_pool(const PoolCase& c, const std::vector<double>& x, i64 OH, i64 OW, std::vector<double>& values,
                    std::vector<double>& where) {
  values.assign(std::size_t(c.N * c.C * OH * OW), 0);
  where.assign(values.size(), 0);
  for (i64 nc = 0; nc < c.N * c.C; ++nc)
    for (i64 oh = 0; oh < OH; ++oh)
      for (i64 ow = 0; ow < OW; ++ow) {
        double best = -std::numeric_limits<double>::infinity();
        i64 at = -1;
        for (i64 kh = 0; kh < c.p.kernel[0]; ++kh)
          for (i64 kw = 0; kw < c.p.kernel[1]; ++kw) {
            const i64 h = oh * c.p.stride[0] - c.p.padding[0] + kh * c.p.dilation[0];
            const i64 w = ow * c.p.stride[1] - c.p.padding[1] + kw * c.p.dilation[1];
            if (h < 0 || h >= c.H || w < 0 || w >= c.W) continue;
            const double v = x[std::size_t((nc * c.H + h) * c.W + w)];
            if (at < 0 || v > best) best = v, at = h * c.W + w;
          }
        values[std::size_t((nc * OH + oh) * OW + ow)] = best;
        where[std::size_t((nc * OH + oh) * OW + ow)] = double(at);
      }
}

std::vector<double> naive_avg_pool(const PoolCase& c, const std::vector<double>& x, i64 OH, i64 OW) {
  std::vector<double> out(std::size_t(c.N * c.C * OH * OW));
  for (i64 nc = 0; nc < c.N * c.C; ++nc)
    for (i64 oh = 0; oh < OH; ++oh)
      for (i64 ow = 0; ow < OW; ++ow) {
        double acc = 0;
        i64 inside = 0;
        for (i64 kh = 0; kh < c.p.kernel[0]; ++kh)
          for (i64 kw = 0; kw < c.p.kernel[1]; ++kw) {
            const i64 h = oh * c.p.stride[0] - c.p.padding[0] + kh, w = ow * c.p.stride[1] - c.p.padding[1] + kw;
            if (h < 0 || h >= c.H || w < 0 || w >= c.W) continue;
            acc += x[std::size_t((nc * c.H + h) * c.W + w)];
            ++inside;
          }
        out[std::size_t((nc * OH + oh) * OW + ow)] = acc / double(c.p.count_include_pad ? c.p.kernel[0] * c.p.kernel[1] : inside);
      }
  return out;
}

void run_pool(Op op) {
  const OpSpec& spec = spec_of(op);
  const bool max = op == Op::max_pool2d || op == Op::max_pool2d_backward;
  for (DType dtype : dtypes_to_test(op, spec)) {
    for (const PoolCase& c : pool_cases(max)) {
      for (Layout layout : {Layout::Contiguous, Layout::ChannelsLast}) {
        const std::string what = describe(op, dtype, layout, {c.N, c.C, c.H, c.W}) + " " + c.what;
        INFO(what);
        const i64 OH = out_size(c.H, c.p.kernel[0], c.p.stride[0], c.p.padding[0], c.p.dilation[0]);
        const i64 OW = out_size(c.W, c.p.kernel[1], c.p.stride[1], c.p.padding[1], c.p.dilation[1]);
        const Shape xs{c.N, c.C, c.H, c.W}, os{c.N, c.C, OH, OW};
        const Tensor x = make_input(xs, dtype, layout, spec.a, 31);
        const Tensor g = make_input(os, dtype, layout, spec.a, 32);
        const Tolerance tol = tolerance(spec, dtype);
        if (max) {
          Tensor values = make_output(os, dtype, layout), indices = make_output(os, DType::Int64, layout);
          reference().max_pool2d(values, indices, x, c.p);
          std::vector<double> expected_values, expected_where;
          naive_max_pool(c, host(x), OH, OW, expected_values, expected_where);
          if (op == Op::max_pool2d) {
            Tensor fast_values = make_output(os, dtype, layout), fast_indices = make_output(os, DType::Int64, layout);
            fast().max_pool2d(fast_values, fast_indices, x, c.p);
            check_values(host(fast_values), host(values), {0, 0}, what + ": values, fast vs reference");
            check_values(host(fast_indices), host(indices), {0, 0}, what + ": indices, fast vs reference");
            check_values(host(values), expected_values, {0, 0}, what + ": values, reference vs loop");
            check_values(host(indices), expected_where, {0, 0}, what + ": indices, reference vs loop");
          } else {
            Tensor fast_dx = make_output(xs, dtype, layout), ref_dx = make_output(xs, dtype, layout);
            fast().max_pool2d_backward(fast_dx, g, indices);
            reference().max_pool2d_backward(ref_dx, g, indices);
            check_values(host(fast_dx), host(ref_dx), tol, what + ": fast vs reference");
            std::vector<double> expected(std::size_t(xs.numel()), 0.0);
            const auto gs = host(g);
            for (std::size_t i = 0; i < gs.size(); ++i) {
              const i64 nc = i64(i) / (OH * OW);
              expected[std::size_t(nc * c.H * c.W + i64(expected_where[i]))] += gs[i];
            }
            check_values(host(ref_dx), expected, tol, what + ": reference vs loop");
          }
        } else if (op == Op::avg_pool2d) {
          Tensor fast_out = make_output(os, dtype, layout), ref_out = make_output(os, dtype, layout);
          fast().avg_pool2d(fast_out, x, c.p);
          reference().avg_pool2d(ref_out, x, c.p);
          check_values(host(fast_out), host(ref_out), tol, what + ": fast vs reference");
          check_values(host(ref_out), naive_avg_pool(c, host(x), OH, OW), tol, what + ": reference vs loop");
        } else {
          Tensor fast_dx = make_output(xs, dtype, layout), ref_dx = make_output(xs, dtype, layout);
          fast().avg_pool2d_backward(fast_dx, g, c.p);
          reference().avg_pool2d_backward(ref_dx, g, c.p);
          check_values(host(fast_dx), host(ref_dx), tol, what + ": fast vs reference");
          const double lhs = dot(naive_avg_pool(c, host(x), OH, OW), host(g));
          CHECK(std::abs(lhs - dot(host(x), host(ref_dx))) <= 1e-4 * (1 + std::abs(lhs)));
        }
      }
    }
  }
}

}  // namespace

void run_convolution(Op op) {
  if (op == Op::conv2d || op == Op::conv2d_backward_data || op == Op::conv2d_backward_weight) return run_conv(op);
  FAIL("no conformance harness for convolution op " << loom::op_name(op));
}

void run_pooling(Op op) {
  if (op == Op::max_pool2d || op == Op::max_pool2d_backward || op == Op::avg_pool2d || op == Op::avg_pool2d_backward)
    return run_pool(op);
  FAIL("no conformance harness for pooling op " << loom::op_name(op));
}

}  // namespace conformance
