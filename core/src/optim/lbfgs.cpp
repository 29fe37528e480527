#include "loom/optim/lbfgs.hpp"

#include <algorithm>
#include <cmath>
#include <deque>

#include "check_options.hpp"
#include "loom/autograd.hpp"
#include "strong_wolfe.hpp"

namespace loom::optim {
namespace {

// ---- parameters as one flat vector ---------------------------------------------------------

Tensor gather_flat_grad(const std::vector<Tensor>& params) {
  std::vector<Tensor> views;
  for (const Tensor& p : params) {
    const Tensor g = p.grad();
    views.push_back(g.defined() ? g.reshape({-1}) : zeros({p.numel()}, TensorOptions(p.dtype(), p.device())));
  }
  return cat(views, 0);
}

// params += step · direction
void add_to_params(const std::vector<Tensor>& params, double step, const Tensor& direction) {
  std::int64_t offset = 0;
  for (Tensor p : params) {
    p.add_(direction.slice(0, offset, offset + p.numel()).reshape(p.sizes()) * step);
    offset += p.numel();
  }
}

double dot(const Tensor& a, const Tensor& b) { return sum(a * b).item<double>(); }
double max_abs(const Tensor& a) { return max(abs(a)).item<double>(); }

// ---- the curvature history and its state_dict form ------------------------------------------

struct Memory {
  Tensor d;                     // the last search direction
  double t = 0;                 // the last step length
  std::deque<Tensor> old_dirs;  // y_k = g_{k+1} − g_k
  std::deque<Tensor> old_stps;  // s_k = t·d_k
  std::deque<double> ro;        // 1 / (y_k·s_k)
  double H_diag = 1;            // the initial inverse-Hessian scale, (y·s)/(y·y)
  Tensor prev_flat_grad;
  double prev_loss = 0;
  std::int64_t n_iter = 0;      // over all step() calls
  std::int64_t func_evals = 0;
};

Memory read_memory(const ParamState& state) {
  Memory m;
  auto scalar = [&](const char* key, double fallback) {
    const auto it = state.scalars.find(key);
    return it == state.scalars.end() ? fallback : it->second;
  };
  auto tensor = [&](const std::string& key) {
    const auto it = state.tensors.find(key);
    return it == state.tensors.end() ? Tensor() : it->second;
  };
  m.d = tensor("d");
  m.prev_flat_grad = tensor("prev_flat_grad");
  m.t = scalar("t", 0);
  m.H_diag = scalar("H_diag", 1);
  m.prev_loss = scalar("prev_loss", 0);
  m.n_iter = static_cast<std::int64_t>(scalar("n_iter", 0));
  m.func_evals = static_cast<std::int64_t>(scalar("func_evals", 0));
  const auto length = static_cast<std::size_t>(scalar("history_length", 0));
  for (std::size_t k = 0; k < length; ++k) {
    const std::string index = std::to_string(k);
    m.old_dirs.push_back(tensor("old_dirs." + index));
    m.old_stps.push_back(tensor("old_stps." + index));
    m.ro.push_back(scalar(("ro." + index).c_str(), 0));
  }
  return m;
}

ParamState write_memory(const Memory& m) {
  ParamState state;
  if (m.d.defined()) state.tensors["d"] = m.d;
  if (m.prev_flat_grad.defined()) state.tensors["prev_flat_grad"] = m.prev_flat_grad;
  state.scalars = {{"t", m.t}, {"H_diag", m.H_diag}, {"prev_loss", m.prev_loss},
                   {"n_iter", static_cast<double>(m.n_iter)}, {"func_evals", static_cast<double>(m.func_evals)},
                   {"history_length", static_cast<double>(m.old_dirs.size())}};
  for (std::size_t k = 0; k < m.old_dirs.size(); ++k) {
    const std::string index = std::to_string(k);
    state.tensors["old_dirs." + index] = m.old_dirs[k];
    state.tensors["old_stps." + index] = m.old_stps[k];
    state.scalars["ro." + index] = m.ro[k];
  }
  return state;
}

// Adds the pair (y, s) of the last iteration when it has positive curvature.
void update_history(Memory& m, const Tensor& flat_grad, std::size_t history_size) {
  const Tensor y = flat_grad - m.prev_flat_grad;
  const Tensor s = m.d * m.t;
  const double ys = dot(y, s);
  if (ys <= 1e-10) return;
  if (m.old_dirs.size() == history_size) {
    m.old_dirs.pop_front();
    m.old_stps.pop_front();
    m.ro.pop_front();
  }
  m.old_dirs.push_back(y);
  m.old_stps.push_back(s);
  m.ro.push_back(1 / ys);
  m.H_diag = ys / dot(y, y);
}

// The two-loop recursion: −H·g with H the L-BFGS inverse-Hessian approximation.
Tensor two_loop_direction(const Memory& m, const Tensor& flat_grad) {
  const std::size_t n = m.old_dirs.size();
  std::vector<double> alpha(n);
  Tensor q = -flat_grad;
  for (std::size_t i = n; i-- > 0;) {
    alpha[i] = dot(m.old_stps[i], q) * m.ro[i];
    q.sub_(m.old_dirs[i] * alpha[i]);
  }
  Tensor r = q * m.H_diag;
  for (std::size_t i = 0; i < n; ++i) {
    const double beta = dot(m.old_dirs[i], r) * m.ro[i];
    r.add_(m.old_stps[i] * (alpha[i] - beta));
  }
  return r;
}

}  // namespace

void LBFGSOptions::validate() const {
  detail::check_non_negative("LBFGS", "lr", lr);
  detail::check_non_negative("LBFGS", "tolerance_grad", tolerance_grad);
  detail::check_non_negative("LBFGS", "tolerance_change", tolerance_change);
  detail::check_non_negative("LBFGS", "max_eval", static_cast<double>(max_eval));
  LOOM_CHECK(max_iter >= 1, ValueError, "LBFGS: option max_iter must be >= 1, found {}", max_iter);
  LOOM_CHECK(history_size >= 1, ValueError, "LBFGS: option history_size must be >= 1, found {}", history_size);
  LOOM_CHECK(line_search == LineSearch::None || line_search == LineSearch::StrongWolfe, ValueError,
             "LBFGS: option line_search must be None or StrongWolfe, found {}", static_cast<int>(line_search));
}

LBFGS::LBFGS(std::vector<Tensor> params, LBFGSOptions options)
    : TypedOptimizer("LBFGS", {{std::move(params), options}}) {
  const auto& ps = groups_[0].params;
  for (const Tensor& p : ps) {
    LOOM_CHECK(p.dtype() == ps[0].dtype() && p.device() == ps[0].device(), ValueError,
               "LBFGS: all parameters must share one dtype and device; found {} on {} and {} on {}",
               dtype_name(ps[0].dtype()), ps[0].device().str(), dtype_name(p.dtype()), p.device().str());
  }
}

Tensor LBFGS::step_impl(const Closure& closure) {
  LOOM_CHECK(closure != nullptr, ValueError, "LBFGS: step() needs a closure that re-evaluates the loss");
  LOOM_CHECK(groups_.size() == 1, ValueError, "LBFGS: supports one parameter group, found {}", groups_.size());
  NoGradGuard no_grad;
  const LBFGSOptions o = groups_[0].options;
  const std::vector<Tensor>& params = groups_[0].params;
  const std::int64_t max_eval = o.max_eval > 0 ? o.max_eval : o.max_iter * 5 / 4;
  auto evaluate = [&] {
    EnableGradGuard grad_on;
    return closure();
  };

  Memory m = read_memory(state_at(0));
  const Tensor orig_loss = evaluate().detach();  // the value; its graph is not kept alive
  double loss = orig_loss.item<double>();
  std::int64_t current_evals = 1;
  m.func_evals += 1;
  Tensor flat_grad = gather_flat_grad(params);
  bool optimal = max_abs(flat_grad) <= o.tolerance_grad;

  for (std::int64_t n_iter = 1; !optimal && n_iter <= o.max_iter; ++n_iter) {
    m.n_iter += 1;
    if (m.n_iter == 1) {  // steepest descent, and forget any history
      m.d = -flat_grad;
      m.old_dirs.clear();
      m.old_stps.clear();
      m.ro.clear();
      m.H_diag = 1;
    } else {
      update_history(m, flat_grad, static_cast<std::size_t>(o.history_size));
      m.d = two_loop_direction(m, flat_grad);
    }
    m.prev_flat_grad = flat_grad;
    m.prev_loss = loss;
    // The first step is scaled so that it moves at most lr in the 1-norm.
    m.t = m.n_iter == 1 ? std::min(1.0, 1.0 / sum(abs(flat_grad)).item<double>()) * o.lr : o.lr;
    const double gtd = dot(flat_grad, m.d);
    if (gtd > -o.tolerance_change) break;  // not a descent direction

    std::int64_t ls_evals = 0;
    if (o.line_search == LineSearch::StrongWolfe) {
      std::vector<Tensor> x0;
      for (const Tensor& p : params) x0.push_back(p.clone());
      auto phi = [&](double t) {
        add_to_params(params, t, m.d);
        detail::LineProbe probe{t, evaluate().item<double>(), gather_flat_grad(params), 0};
        probe.gtd = dot(probe.g, m.d);
        for (std::size_t i = 0; i < params.size(); ++i) Tensor(params[i]).copy_(x0[i]);
        return probe;
      };
      const auto found = detail::strong_wolfe(phi, {0, loss, flat_grad, gtd}, m.t, max_abs(m.d));
      loss = found.f;
      flat_grad = found.g;
      m.t = found.t;
      ls_evals = found.evaluations;
      add_to_params(params, m.t, m.d);
      optimal = max_abs(flat_grad) <= o.tolerance_grad;
    } else {
      add_to_params(params, m.t, m.d);
      if (n_iter != o.max_iter) {  // the last iteration's loss is left to the next step()
        loss = evaluate().item<double>();
        flat_grad = gather_flat_grad(params);
        optimal = max_abs(flat_grad) <= o.tolerance_grad;
        ls_evals = 1;
      }
    }
    current_evals += ls_evals;
    m.func_evals += ls_evals;

    if (current_evals >= max_eval) break;
    if (max_abs(m.d) * std::abs(m.t) <= o.tolerance_change) break;  // the step is negligible
    if (std::abs(loss - m.prev_loss) < o.tolerance_change) break;   // the loss stopped moving
  }
  state_at(0) = write_memory(m);
  return orig_loss;
}

}  // namespace loom::optim
