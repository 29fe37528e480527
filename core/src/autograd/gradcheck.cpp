// gradcheck / gradgradcheck: the autograd Jacobian against central finite differences.
#include <cmath>

#include "autograd/rules.hpp"

namespace loom::autograd {

namespace {

struct Perturbable {
  double* base = nullptr;       // first element of the input's storage view
  std::vector<std::int64_t> offsets;  // element offsets in row-major logical order
};

Perturbable perturbable(const Tensor& t, std::size_t which) {
  LOOM_CHECK(t.dtype() == DType::Float64, DTypeError,
             "gradcheck: input {} is {}; finite differences need float64 inputs", which, dtype_name(t.dtype()));
  for (std::int64_t d = 0; d < t.dim(); ++d) {
    LOOM_CHECK(!(t.stride(d) == 0 && t.size(d) > 1), ValueError,
               "gradcheck: input {} is an expanded view (stride 0 in dim {}); pass a tensor whose "
               "elements do not share memory", which, d);
  }
  Perturbable p;
  p.base = t.data_ptr<double>();
  p.offsets.reserve(static_cast<std::size_t>(t.numel()));
  std::vector<std::int64_t> idx(static_cast<std::size_t>(t.dim()), 0);
  for (std::int64_t n = 0; n < t.numel(); ++n) {
    std::int64_t off = 0;
    for (std::size_t d = 0; d < idx.size(); ++d) off += idx[d] * t.strides()[d];
    p.offsets.push_back(off);
    for (std::size_t d = idx.size(); d-- > 0;) {
      if (++idx[d] < t.sizes()[d]) break;
      idx[d] = 0;
    }
  }
  return p;
}

std::string index_str(const Tensor& t, std::int64_t flat) {
  std::vector<std::int64_t> idx(static_cast<std::size_t>(t.dim()));
  for (std::size_t d = idx.size(); d-- > 0;) {
    idx[d] = flat % t.sizes()[d];
    flat /= t.sizes()[d];
  }
  return fmt::format("[{}]", fmt::join(idx, ", "));
}

TensorList checked_outputs(const DifferentiableFn& fn, const TensorList& inputs) {
  TensorList outs = fn(inputs);
  LOOM_CHECK(!outs.empty(), ValueError, "gradcheck: the function returned no outputs");
  return outs;
}

}  // namespace

GradcheckResult gradcheck(const DifferentiableFn& fn, const TensorList& inputs, const GradcheckOptions& o) {
  std::vector<std::size_t> checked;
  std::vector<Perturbable> places(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || !inputs[i].requires_grad()) continue;
    places[i] = perturbable(inputs[i], i);
    checked.push_back(i);
  }
  LOOM_CHECK(!checked.empty(), ValueError, "gradcheck: no input requires grad");

  TensorList outputs = checked_outputs(fn, inputs);
  // numerical[out][in] is a (numel(out) × numel(in)) Jacobian, row-major.
  std::vector<std::vector<std::vector<double>>> numerical(outputs.size(), std::vector<std::vector<double>>(inputs.size()));
  for (std::size_t oi = 0; oi < outputs.size(); ++oi)
    for (std::size_t i : checked)
      numerical[oi][i].assign(static_cast<std::size_t>(outputs[oi].numel() * inputs[i].numel()), 0.0);
  // Outputs are read right after each evaluation: a view of an input would change with it.
  // fn runs with grad mode as the caller has it (gradgradcheck's fn needs it to differentiate).
  auto evaluate = [&] {
    std::vector<std::vector<double>> values;
    for (const Tensor& out : checked_outputs(fn, inputs))
      values.push_back(out.is_floating_point() ? out.to_vector<double>() : std::vector<double>());
    return values;
  };
  for (std::size_t i : checked) {
    const std::int64_t n = inputs[i].numel();
    for (std::int64_t k = 0; k < n; ++k) {
      double& x = places[i].base[places[i].offsets[static_cast<std::size_t>(k)]];
      const double saved = x;
      x = saved + o.eps;
      const auto plus = evaluate();
      x = saved - o.eps;
      const auto minus = evaluate();
      x = saved;
      for (std::size_t oi = 0; oi < outputs.size(); ++oi) {
        const auto& p = plus[oi];
        const auto& m = minus[oi];
        for (std::size_t j = 0; j < p.size(); ++j)
          numerical[oi][i][j * static_cast<std::size_t>(n) + static_cast<std::size_t>(k)] = (p[j] - m[j]) / (2 * o.eps);
      }
    }
  }

  GradcheckResult result;
  double worst = -1;
  TensorList wrt;
  for (std::size_t i : checked) wrt.push_back(inputs[i]);
  for (std::size_t oi = 0; oi < outputs.size(); ++oi) {
    const Tensor& out = outputs[oi];
    if (!out.is_floating_point() || !out.requires_grad()) {
      // An output without a graph must have a zero numerical Jacobian.
      for (std::size_t i : checked)
        for (double v : numerical[oi][i])
          if (std::fabs(v) > o.atol && std::fabs(v) > worst) {
            worst = std::fabs(v);
            result.ok = false;
            result.report = fmt::format("output {} has no gradient graph, but its numerical Jacobian "
                                        "with respect to input {} is {}", oi, i, v);
          }
      continue;
    }
    for (std::int64_t j = 0; j < out.numel(); ++j) {
      Tensor seed = zeros(out.sizes(), out.dtype());
      seed.reshape({-1}).narrow(0, j, 1).fill_(1.0);
      TensorList rows = grad({out}, wrt, {seed}, /*retain_graph=*/true, false, /*allow_unused=*/true);
      for (std::size_t c = 0; c < checked.size(); ++c) {
        const std::size_t i = checked[c];
        const std::int64_t n = inputs[i].numel();
        std::vector<double> analytical = rows[c].defined() ? rows[c].to_vector<double>()
                                                           : std::vector<double>(static_cast<std::size_t>(n), 0.0);
        LOOM_CHECK(static_cast<std::int64_t>(analytical.size()) == n, ShapeError,
                   "gradcheck: the gradient of input {} has {} elements, the input has {}", i, analytical.size(), n);
        for (std::int64_t k = 0; k < n; ++k) {
          const double a = analytical[static_cast<std::size_t>(k)];
          const double num = numerical[oi][i][static_cast<std::size_t>(j * n + k)];
          const double err = std::fabs(a - num);
          const bool pass = err <= o.atol + o.rtol * std::fabs(num);
          result.max_error = std::max(result.max_error, err);
          if ((!pass || !std::isfinite(a)) && err > worst) {
            worst = err;
            result.ok = false;
            result.report = fmt::format(
                "Jacobian mismatch for output {} element {} with respect to input {} element {}: "
                "analytical {:.9g}, numerical {:.9g} (|difference| {:.3g} > atol {} + rtol {}·|numerical|)",
                oi, index_str(out, j), i, index_str(inputs[i], k), a, num, err, o.atol, o.rtol);
          }
        }
      }
    }
  }
  if (result.ok) result.report = fmt::format("gradcheck passed (max |analytical − numerical| = {:.3g})", result.max_error);
  return result;
}

GradcheckResult gradgradcheck(const DifferentiableFn& fn, const TensorList& inputs, const GradcheckOptions& o) {
  // Fixed random cotangents v, one per output; the checked function maps inputs to vjp(v).
  TensorList outputs = checked_outputs(fn, inputs);
  TensorList cotangents;
  for (const Tensor& out : outputs) cotangents.push_back(randn(out.sizes(), out.dtype()).requires_grad_());
  const std::size_t n_in = inputs.size();
  DifferentiableFn vjp = [&fn, n_in](const TensorList& args) {
    TensorList in(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(n_in));
    TensorList v(args.begin() + static_cast<std::ptrdiff_t>(n_in), args.end());
    TensorList outs = fn(in);
    TensorList wrt;
    for (const Tensor& t : in)
      if (t.defined() && t.requires_grad()) wrt.push_back(t);
    TensorList differentiable_outs, used_v;
    for (std::size_t i = 0; i < outs.size(); ++i)
      if (outs[i].requires_grad()) {
        differentiable_outs.push_back(outs[i]);
        used_v.push_back(v[i]);
      }
    TensorList g = grad(differentiable_outs, wrt, used_v, true, /*create_graph=*/true, /*allow_unused=*/true);
    for (std::size_t i = 0; i < g.size(); ++i)
      if (!g[i].defined()) g[i] = zeros_like(wrt[i]);
    return g;
  };
  TensorList args = inputs;
  args.insert(args.end(), cotangents.begin(), cotangents.end());
  GradcheckResult r = gradcheck(vjp, args, o);
  if (!r.ok) r.report = "second derivative: " + r.report;
  return r;
}

}  // namespace loom::autograd
