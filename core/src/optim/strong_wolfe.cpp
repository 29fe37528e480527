#include "strong_wolfe.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace loom::optim::detail {

double cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2, double lo, double hi) {
  const double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
  const double d2_square = d1 * d1 - g1 * g2;
  if (d2_square < 0) return (lo + hi) / 2;
  const double d2 = std::sqrt(d2_square);
  const double min_pos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                                   : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
  return std::min(std::max(min_pos, lo), hi);
}

namespace {

// An interval [low, high] (by function value, not by position) known to contain a point that
// satisfies the strong Wolfe conditions.
struct Bracket {
  std::array<LineProbe, 2> ends;
  int low = 0;
  int high = 1;

  void order() {
    low = ends[0].f <= ends[1].f ? 0 : 1;
    high = 1 - low;
  }
  double left() const { return std::min(ends[0].t, ends[1].t); }
  double right() const { return std::max(ends[0].t, ends[1].t); }
};

}  // namespace

LineSearchResult strong_wolfe(const LineFunction& phi, const LineProbe& start, double t, double d_norm,
                              const StrongWolfeOptions& o) {
  const double f0 = start.f;
  const double gtd0 = start.gtd;
  // Written as PyTorch writes it, so a NaN loss counts as a decrease.
  auto armijo_violated = [&](const LineProbe& p) { return p.f > f0 + o.c1 * p.t * gtd0; };
  auto curvature = [&](const LineProbe& p) { return std::abs(p.gtd) <= -o.c2 * gtd0; };

  // Phase 1: grow t until [previous, current] brackets an acceptable step, or accept current.
  LineProbe prev = start;
  LineProbe cur = phi(t);
  int evaluations = 1;
  int ls_iter = 0;
  Bracket bracket;
  bool done = false;
  while (ls_iter < o.max_ls) {
    if (armijo_violated(cur) || (ls_iter > 1 && cur.f >= prev.f)) {
      bracket.ends = {prev, cur};
      break;
    }
    if (curvature(cur)) {
      bracket.ends = {cur, cur};
      done = true;
      break;
    }
    if (cur.gtd >= 0) {
      bracket.ends = {prev, cur};
      break;
    }
    // Extrapolate: the next trial lies in [t + 0.01(t − t_prev), 10t].
    const double next = cubic_interpolate(prev.t, prev.f, prev.gtd, cur.t, cur.f, cur.gtd,
                                          cur.t + 0.01 * (cur.t - prev.t), cur.t * 10);
    prev = cur;
    cur = phi(next);
    ++evaluations;
    ++ls_iter;
  }
  if (ls_iter == o.max_ls) bracket.ends = {start, cur};
  bracket.order();

  // Phase 2 (zoom): shrink the bracket by cubic interpolation, keeping the lower end's value
  // below every other point tried, until a point meets both conditions.
  bool insufficient_progress = false;
  while (!done && ls_iter < o.max_ls) {
    const LineProbe& a = bracket.ends[0];
    const LineProbe& b = bracket.ends[1];
    if (std::abs(b.t - a.t) * d_norm < o.tolerance_change) break;
    const double left = bracket.left();
    const double right = bracket.right();
    double trial = cubic_interpolate(a.t, a.f, a.gtd, b.t, b.f, b.gtd, left, right);

    // Safeguard: a trial within 10% of an end makes little progress; twice in a row (or at
    // an end), move it to 10% inside the interval.
    const double margin = 0.1 * (right - left);
    if (std::min(right - trial, trial - left) < margin) {
      if (insufficient_progress || trial >= right || trial <= left) {
        trial = std::abs(trial - right) < std::abs(trial - left) ? right - margin : left + margin;
        insufficient_progress = false;
      } else {
        insufficient_progress = true;
      }
    } else {
      insufficient_progress = false;
    }

    LineProbe p = phi(trial);
    ++evaluations;
    ++ls_iter;
    if (armijo_violated(p) || p.f >= bracket.ends[bracket.low].f) {
      bracket.ends[bracket.high] = p;
      bracket.order();
    } else {
      if (curvature(p)) {
        done = true;
      } else if (p.gtd * (bracket.ends[bracket.high].t - bracket.ends[bracket.low].t) >= 0) {
        bracket.ends[bracket.high] = bracket.ends[bracket.low];
      }
      bracket.ends[bracket.low] = p;
    }
  }
  const LineProbe& best = bracket.ends[bracket.low];
  return {best.t, best.f, best.g, evaluations};
}

}  // namespace loom::optim::detail
