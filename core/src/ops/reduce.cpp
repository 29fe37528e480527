// Reductions (sum, mean, prod, max/min, logsumexp, var/std, softmax, log_softmax), the family in
// one place: the forward in loom::raw (the backend reduces into a keepdim-shaped output; squeezing,
// averaging and the all-elements forms are done here), then the public ops with their gradient rules.
#include <algorithm>
#include <limits>

#include "autograd/rules.hpp"

// ==== forward: validation and the backend call ====================================================
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

}  // namespace loom::raw

// ==== public ops and their gradient rules =========================================================
namespace loom {

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
    Tensor x = sx.unpack(name), y = sy->unpack(name);
    // A NaN result came from the NaN elements: they share the gradient, as in PyTorch (x == y
    // is false for every element when y is NaN).
    Tensor hit = logical_or(x == y, logical_and(x != x, y != y));
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
  const std::int64_t d = unbiased ? n - 1 : n;
  const double denom = d > 0 ? static_cast<double>(d) : std::numeric_limits<double>::quiet_NaN();
  // Its own rule, PyTorch's: ∂var/∂x = 2 (x − mean) / denom. The composition's gradient also goes
  // through the mean, whose term Σ(x − mean) is 0 in exact arithmetic but NaN when an element is
  // infinite (∞ − ∞), which would make every element's gradient NaN instead of ∓∞.
  Shape keep = x.sizes();  // the reduced dims as size 1
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (mask[i]) keep[i] = 1;
  SavedTensor sx(x, false);
  return differentiable(
      GradOp::var, {x},
      [&] {
        Tensor centered = x - mean(x, dims, true);
        return sum(centered * centered, dims, keepdim) / denom;
      },
      [sx, dims, keep, denom](const TensorList& g) -> TensorList {
        Tensor x = sx.unpack("var");
        return {g[0].reshape(keep) * (x - mean(x, dims, true)) * (2.0 / denom)};
      });
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

}  // namespace loom
