// PyTorch-style printing: tensor([[1.0000, 2.5000],
//                                 [3.0000, 4.0000]], dtype=float64)
// Floats share one format per tensor (integers-valued floats print as "1.", others with four
// decimals, scientific when the range calls for it); large tensors are summarised with "...".
#include <cmath>
#include <ostream>

#include "tensor/internal.hpp"

namespace loom {

namespace {

constexpr std::int64_t kSummariseAbove = 1000;  // elements
constexpr std::int64_t kEdgeItems = 3;

struct FloatFormat {
  bool integral = true;
  bool scientific = false;
  int width = 1;
};

FloatFormat choose_format(const std::vector<double>& v) {
  FloatFormat f;
  double max_abs = 0, min_abs = INFINITY;
  for (double x : v) {
    if (!std::isfinite(x)) continue;
    if (x != std::floor(x)) f.integral = false;
    max_abs = std::max(max_abs, std::fabs(x));
    if (x != 0) min_abs = std::min(min_abs, std::fabs(x));
  }
  if (max_abs > 1e8 || (!f.integral && (min_abs < 1e-4 || max_abs / min_abs > 1000)))
    f.scientific = max_abs > 1e8 || min_abs < 1e-4;
  return f;
}

std::string format_value(double x, DType dtype, const FloatFormat& f) {
  if (dtype == DType::Bool) return x != 0 ? "True" : "False";
  if (!is_floating(dtype)) return fmt::format("{}", static_cast<std::int64_t>(x));
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  if (f.scientific) return fmt::format("{:.4e}", x);
  if (f.integral) return fmt::format("{:.0f}.", x);
  return fmt::format("{:.4f}", x);
}

struct Printer {
  const Tensor& t;
  std::vector<double> values;  // row-major
  std::vector<std::string> cells;
  std::size_t width = 0;
  bool summarise;

  std::int64_t flat_index(const std::vector<std::int64_t>& idx) const {
    std::int64_t flat = 0;
    for (std::size_t d = 0; d < idx.size(); ++d) flat = flat * t.sizes()[d] + idx[d];
    return flat;
  }

  void print(std::string& out, std::vector<std::int64_t>& idx, std::size_t indent, const FloatFormat& f) {
    const std::size_t d = idx.size();
    const std::int64_t n = t.sizes()[d];
    const bool last = d + 1 == t.sizes().size();
    out += '[';
    for (std::int64_t i = 0; i < n; ++i) {
      if (summarise && n > 2 * kEdgeItems && i == kEdgeItems) {
        out += last ? " ..., " : fmt::format("...,\n{:{}}", "", indent + 1);
        i = n - kEdgeItems;
      }
      idx.push_back(i);
      if (last) {
        std::string cell = format_value(values[flat_index(idx)], t.dtype(), f);
        out += fmt::format("{:>{}}", cell, width);
      } else {
        print(out, idx, indent + 1, f);
      }
      idx.pop_back();
      if (i + 1 < n) {
        if (last) out += ", ";
        else out += fmt::format(",{}{:{}}", std::string(t.dim() - d - 1, '\n'), "", indent + 1);
      }
    }
    out += ']';
  }
};

}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  std::vector<double> values = to_vector<double>();
  FloatFormat f = choose_format(values);
  std::string body;
  if (dim() == 0) {
    body = format_value(values[0], dtype(), f);
  } else if (numel() == 0) {
    body = "[]";
  } else {
    Printer p{*this, std::move(values), {}, 0, numel() > kSummariseAbove};
    for (double v : p.values) p.width = std::max(p.width, format_value(v, dtype(), f).size());
    std::vector<std::int64_t> idx;
    p.print(body, idx, 7, f);
  }
  std::string suffix;
  if (numel() == 0 && dim() != 1) suffix += ", size=" + sizes().str();
  if (dtype() != DType::Float32 && dtype() != DType::Int64 && dtype() != DType::Bool)
    suffix += fmt::format(", dtype={}", dtype_name(dtype()));
  if (device().type != DeviceType::CPU) suffix += fmt::format(", device='{}'", device().str());
  return fmt::format("tensor({}{})", body, suffix);
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

}  // namespace loom
