// Gradient rules of reductions, softmax/log_softmax and matmul.
#include "rules.hpp"

namespace loom {

using autograd::differentiable;
using autograd::GradOp;
using autograd::InputGeometry;
using autograd::SavedTensor;

namespace {

// The keepdim shape of reducing x over `mask`.
Shape keepdim_shape(const Shape& sizes, const std::vector<bool>& mask) {
  Shape s = sizes;
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (mask[i]) s[i] = 1;
  return s;
}

// A reduction's output gradient, reshaped to the keepdim shape so it broadcasts against x.
Tensor unsqueeze_reduced(const Tensor& g, const Shape& keep) { return g.reshape(keep); }

// Records after the fact for ops whose saved output must carry its grad_fn.
void save_output_after_record(const std::shared_ptr<SavedTensor>& slot, const Tensor& out) {
  if (slot && out.requires_grad()) *slot = SavedTensor(out, true);
}
// The slot for a saved output, allocated only when the op will be recorded.
std::shared_ptr<SavedTensor> output_slot(const Tensor& x) {
  return autograd::needs_grad(x) ? detail::make_pooled<SavedTensor>() : nullptr;
}

}  // namespace

Tensor sum(const Tensor& x, const Shape& dims, bool keepdim) {
  // Without grad, skip the rule's keepdim shape (a second reduced_dims) and captures.
  if (!autograd::needs_grad(x)) return autograd::forward_only(GradOp::sum, [&] { return raw::sum(x, dims, keepdim); });
  const Shape keep = x.defined() ? keepdim_shape(x.sizes(), raw::reduced_dims("sum", x, dims)) : Shape{};
  return differentiable(GradOp::sum, {x}, [&] { return raw::sum(x, dims, keepdim); },
                        [keep, in = InputGeometry(x)](const TensorList& g) -> TensorList {
                          return {unsqueeze_reduced(g[0], keep).expand(in.sizes)};
                        });
}
Tensor sum(const Tensor& x) { return sum(x, Shape{}, false); }

Tensor mean(const Tensor& x, const Shape& dims, bool keepdim) {
  const auto mask = x.defined() ? raw::reduced_dims("mean", x, dims) : std::vector<bool>{};
  std::int64_t count = 1;
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (mask[i]) count *= x.size(static_cast<std::int64_t>(i));
  const Shape keep = x.defined() ? keepdim_shape(x.sizes(), mask) : Shape{};
  return differentiable(GradOp::mean, {x}, [&] { return raw::mean(x, dims, keepdim); },
                        [keep, count, in = InputGeometry(x)](const TensorList& g) -> TensorList {
                          return {unsqueeze_reduced(g[0], keep).expand(in.sizes) / static_cast<double>(count)};
                        });
}
Tensor mean(const Tensor& x) { return mean(x, Shape{}, false); }

Tensor prod(const Tensor& x, const Shape& dims, bool keepdim) {
  SavedTensor sx(x, false);
  const Shape keep = x.defined() ? keepdim_shape(x.sizes(), raw::reduced_dims("prod", x, dims)) : Shape{};
  return differentiable(GradOp::prod, {x}, [&] { return raw::prod(x, dims, keepdim); },
                        [sx, keep, dims](const TensorList& g) -> TensorList {
                          // ∂/∂x_i Π x = Π_{j≠i} x_j, computed without dividing by zero: with no
                          // zero in a group it is prod/x_i; with one zero only that entry gets the
                          // product of the others; with two or more every entry gets 0.
                          Tensor x = sx.unpack("prod");
                          Tensor is_zero = x == 0;
                          Tensor zeros_in_group = sum(is_zero.to(DType::Int64), dims, true);
                          Tensor nonzero_prod = prod(where(is_zero, 1.0, x), dims, true);
                          Tensor gk = unsqueeze_reduced(g[0], keep);
                          Tensor others = where(zeros_in_group == 0, nonzero_prod / where(is_zero, 1.0, x),
                                                where((zeros_in_group == 1) & is_zero, nonzero_prod, 0.0));
                          return {gk * others};
                        });
}
Tensor prod(const Tensor& x) { return prod(x, Shape{}, false); }

namespace {
// max()/min() of all elements: ties share the gradient evenly (PyTorch's evenly_distribute).
Tensor all_extremum(GradOp op, Tensor (*forward)(const Tensor&), const Tensor& x) {
  SavedTensor sx(x, false);
  auto sy = output_slot(x);
  const std::string_view name = autograd::grad_op_name(op);
  Tensor out = differentiable(op, {x}, [&] { return forward(x); }, [sx, sy, name](const TensorList& g) -> TensorList {
    Tensor x = sx.unpack(name);
    Tensor hit = x == sy->unpack(name);
    return {where(hit, g[0] / sum(hit.to(x.dtype())), 0.0)};
  });
  save_output_after_record(sy, out);
  return out;
}

ValuesIndices dim_extremum(GradOp op, ValuesIndices (*forward)(const Tensor&, std::int64_t, bool), const Tensor& x,
                           std::int64_t dim, bool keepdim) {
  ProfileScope profile(autograd::grad_op_name(op));  // it records its node itself
  if (!autograd::needs_grad(x)) return forward(x, dim, keepdim);
  ValuesIndices r;
  {
    NoGradGuard no_grad;
    r = forward(x, dim, keepdim);
  }
  const std::int64_t d = detail::wrap_dim(dim, std::max<std::int64_t>(x.dim(), 1), autograd::grad_op_name(op));
  Tensor idx = keepdim || x.dim() == 0 ? r.indices : r.indices.unsqueeze(d);
  auto backward = [idx, d, in = InputGeometry(x), keepdim](const TensorList& g) -> TensorList {
    if (in.sizes.empty()) return {g[0]};
    Tensor gk = keepdim ? g[0] : g[0].unsqueeze(d);
    return {scatter_add(zeros(in.sizes, in.dtype), d, idx, gk)};
  };
  autograd::record_node(detail::make_pooled<autograd::ClosureNode<decltype(backward)>>(autograd::grad_op_name(op),
                                                                                  std::move(backward)),
                        {x}, r.values);
  return r;
}
}  // namespace

Tensor max(const Tensor& x) { return all_extremum(GradOp::max, raw::max, x); }
Tensor min(const Tensor& x) { return all_extremum(GradOp::min, raw::min, x); }
ValuesIndices max(const Tensor& x, std::int64_t dim, bool keepdim) {
  return dim_extremum(GradOp::max_dim, raw::max, x, dim, keepdim);
}
ValuesIndices min(const Tensor& x, std::int64_t dim, bool keepdim) {
  return dim_extremum(GradOp::min_dim, raw::min, x, dim, keepdim);
}
Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim) { return raw::max(x, dim, keepdim).indices; }
Tensor argmin(const Tensor& x, std::int64_t dim, bool keepdim) { return raw::min(x, dim, keepdim).indices; }

Tensor logsumexp(const Tensor& x, const Shape& dims, bool keepdim) {
  LOOM_CHECK(x.defined() && x.is_floating_point(), DTypeError, "logsumexp: expected a floating tensor{}",
             x.defined() ? fmt::format(", found {}", dtype_name(x.dtype())) : std::string());
  const auto mask = raw::reduced_dims("logsumexp", x, dims);
  const Shape keep = keepdim_shape(x.sizes(), mask);
  SavedTensor sx(x, false);
  auto sy = output_slot(x);
  Tensor out = differentiable(
      GradOp::logsumexp, {x},
      [&] {
        // log Σ exp(x) = m + log Σ exp(x − m) with m the max over the reduced dims; where m is
        // infinite the shift is 0, so a row of −inf gives −inf rather than NaN.
        Tensor m = x;
        for (std::int64_t i = 0; i < x.dim(); ++i)
          if (mask[i] && x.size(i) > 0) m = raw::max(m, i, true).values;
        if (x.numel() == 0) m = zeros(keep, x.dtype());
        m = where(abs(m) == INFINITY, 0.0, m);
        Tensor r = log(raw::sum(exp(x - m), dims, true)) + m;
        if (keepdim) return r;
        Shape squeezed;
        for (std::int64_t i = 0; i < x.dim(); ++i)
          if (!mask[i]) squeezed.push_back(x.size(i));
        return r.reshape(squeezed);
      },
      [sx, sy, keep](const TensorList& g) -> TensorList {
        Tensor x = sx.unpack("logsumexp");
        Tensor y = sy->unpack("logsumexp").reshape(keep);
        return {g[0].reshape(keep) * exp(x - y)};
      });
  save_output_after_record(sy, out);
  return out;
}

Tensor var(const Tensor& x, const Shape& dims, bool unbiased, bool keepdim) {
  LOOM_CHECK(x.defined() && x.is_floating_point(), DTypeError, "var: expected a floating tensor{}",
             x.defined() ? fmt::format(", found {}", dtype_name(x.dtype())) : std::string());
  const auto mask = raw::reduced_dims("var", x, dims);
  std::int64_t n = 1;
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (mask[i]) n *= x.size(static_cast<std::int64_t>(i));
  Tensor centered = x - mean(x, dims, true);
  Tensor ss = sum(centered * centered, dims, keepdim);
  const std::int64_t denom = unbiased ? n - 1 : n;
  return ss / (denom > 0 ? static_cast<double>(denom) : std::numeric_limits<double>::quiet_NaN());
}

Tensor std(const Tensor& x, const Shape& dims, bool unbiased, bool keepdim) {
  return sqrt(var(x, dims, unbiased, keepdim));
}

Tensor softmax(const Tensor& x, std::int64_t dim) {
  LOOM_CHECK(x.defined() && x.is_floating_point(), DTypeError, "softmax: expected a floating tensor{}",
             x.defined() ? fmt::format(", found {}", dtype_name(x.dtype())) : std::string());
  const std::int64_t d = detail::wrap_dim(dim, std::max<std::int64_t>(x.dim(), 1), "softmax");
  auto sy = output_slot(x);
  Tensor out = differentiable(
      GradOp::softmax, {x},
      [&] {
        if (x.numel() == 0 || x.dim() == 0) return x.numel() ? ones_like(x) : x.clone();
        Tensor e = exp(x - raw::max(x, d, true).values);
        return e / sum(e, {d}, true);
      },
      [sy, d](const TensorList& g) -> TensorList {
        Tensor y = sy->unpack("softmax");
        return {y * (g[0] - sum(g[0] * y, {d}, true))};
      });
  save_output_after_record(sy, out);
  return out;
}

Tensor log_softmax(const Tensor& x, std::int64_t dim) {
  LOOM_CHECK(x.defined() && x.is_floating_point(), DTypeError, "log_softmax: expected a floating tensor{}",
             x.defined() ? fmt::format(", found {}", dtype_name(x.dtype())) : std::string());
  const std::int64_t d = detail::wrap_dim(dim, std::max<std::int64_t>(x.dim(), 1), "log_softmax");
  auto sy = output_slot(x);
  Tensor out = differentiable(
      GradOp::log_softmax, {x},
      [&] {
        if (x.numel() == 0 || x.dim() == 0) return x.numel() ? zeros_like(x) : x.clone();
        Tensor shifted = x - raw::max(x, d, true).values;
        return shifted - log(sum(exp(shifted), {d}, true));
      },
      [sy, d](const TensorList& g) -> TensorList {
        Tensor y = sy->unpack("log_softmax");
        return {g[0] - exp(y) * sum(g[0], {d}, true)};
      });
  save_output_after_record(sy, out);
  return out;
}

// ---- matmul ----
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
                          if (ib.needs_grad) {
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
