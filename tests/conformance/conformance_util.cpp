// Inputs, outputs, value comparison and backend lookup shared by the family harnesses.
#include <cmath>
#include <limits>
#include <sstream>

#include "conformance.hpp"

namespace conformance {

const char* layout_name(Layout layout) {
  switch (layout) {
    case Layout::Contiguous: return "contiguous";
    case Layout::Transposed: return "transposed";
    case Layout::Strided: return "sliced with step 2";
    case Layout::ChannelsLast: return "channels-last";
    case Layout::Broadcast: return "broadcast (stride 0)";
    case Layout::SizeOne: return "size-1";
  }
  return "?";
}

std::vector<Case> elementwise_cases() {
  // Large shapes hold >= 100k elements so that the fast backend takes its parallel path.
  return {
      {Layout::Contiguous, {3, 5, 7}},          {Layout::Contiguous, {300, 400}},
      {Layout::Transposed, {6, 9}},             {Layout::Transposed, {400, 300}},
      {Layout::Strided, {5, 7}},                {Layout::Strided, {300, 400}},
      {Layout::ChannelsLast, {2, 3, 4, 5}},     {Layout::ChannelsLast, {4, 8, 64, 64}},
      {Layout::Broadcast, {4, 6}},              {Layout::Broadcast, {300, 400}},
      {Layout::SizeOne, {1}},                   {Layout::SizeOne, {1, 1, 1}},
  };
}

namespace {
// splitmix64: a tiny deterministic generator for test inputs (independent of loom's RNG).
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double unit() { return double(next() >> 11) * 0x1.0p-53; }
};

std::vector<double> draw(i64 n, DType dtype, const Domain& d, std::uint64_t seed) {
  Rng rng{seed * 7919 + 17};
  std::vector<double> v(static_cast<std::size_t>(n));
  for (i64 i = 0; i < n; ++i) {
    double x;
    if (dtype == DType::Bool) {
      x = rng.next() % 2 ? 1.0 : 0.0;
    } else if (loom::is_integral(dtype)) {
      double lo = d.ilo, hi = d.ihi;
      if (dtype == DType::UInt8) lo = std::max(lo, 0.0), hi = std::min(hi, 255.0);
      x = std::floor(lo + (hi - lo + 1) * rng.unit());
      if (x > hi) x = hi;
      if (d.nonzero && x == 0) x = 1;
    } else {
      x = d.lo + (d.hi - d.lo) * rng.unit();
      if (d.quantum > 0) x = std::round(x / d.quantum) * d.quantum;
      if (d.nonzero && std::abs(x) < 0.25) x = x < 0 ? -0.25 : 0.25;
      if (d.nan && i % 17 == 5) x = std::numeric_limits<double>::quiet_NaN();
    }
    if (d.zero_every > 0 && i % d.zero_every == 3) x = 0;
    v[static_cast<std::size_t>(i)] = x;
  }
  return v;
}

Tensor filled(const Shape& shape, DType dtype, const Domain& d, std::uint64_t seed) {
  return loom::from_vector(draw(shape.numel(), dtype, d, seed), shape, dtype);
}
}  // namespace

Tensor make_input(const Shape& shape, DType dtype, Layout layout, const Domain& d,
                  std::uint64_t seed, int variant) {
  const std::size_t rank = shape.size();
  switch (layout) {
    case Layout::Transposed:
      if (rank >= 2) {
        Shape swapped = shape;
        std::swap(swapped[rank - 1], swapped[rank - 2]);
        return filled(swapped, dtype, d, seed).transpose(-1, -2);
      }
      break;
    case Layout::Strided:
      if (rank >= 1) {
        Shape wide = shape;
        wide[rank - 1] = 2 * shape[rank - 1] + 1;
        return filled(wide, dtype, d, seed).slice(-1, 1, wide[rank - 1], 2);
      }
      break;
    case Layout::ChannelsLast:
      if (rank == 4) {
        return filled({shape[0], shape[2], shape[3], shape[1]}, dtype, d, seed)
            .permute({0, 3, 1, 2});
      }
      break;
    case Layout::Broadcast:
      if (rank >= 1) {
        Shape narrow = shape;
        narrow[variant == 0 ? 0 : rank - 1] = 1;
        return filled(narrow, dtype, d, seed).expand(shape);
      }
      break;
    case Layout::Contiguous:
    case Layout::SizeOne:
      break;
  }
  return filled(shape, dtype, d, seed);
}

Tensor make_output(const Shape& shape, DType dtype, Layout layout) {
  const std::size_t rank = shape.size();
  if (layout == Layout::Transposed && rank >= 2) {
    Shape swapped = shape;
    std::swap(swapped[rank - 1], swapped[rank - 2]);
    return loom::empty(swapped, dtype).transpose(-1, -2);
  }
  if (layout == Layout::ChannelsLast && rank == 4)
    return loom::empty(shape, dtype, loom::MemoryFormat::ChannelsLast);
  return loom::empty(shape, dtype);
}

double cast_to(DType dtype, double v) {
  switch (dtype) {
    case DType::Bool: return v != 0 ? 1.0 : 0.0;
    case DType::UInt8: return double(static_cast<std::uint8_t>(static_cast<i64>(v)));
    case DType::Int64: return double(static_cast<i64>(v));
    case DType::Float32: return double(static_cast<float>(v));
    case DType::Float64: return v;
  }
  return v;
}

Tolerance tolerance(const OpSpec& spec, DType dtype) {
  if (dtype == DType::Float32) return spec.f32;
  if (dtype == DType::Float64) return spec.f64;
  return {0, 0};
}

void check_values(const std::vector<double>& found, const std::vector<double>& expected,
                  Tolerance tol, const std::string& what) {
  INFO(what);
  REQUIRE(found.size() == expected.size());
  std::size_t mismatches = 0;
  std::ostringstream first;
  for (std::size_t i = 0; i < found.size(); ++i) {
    const double f = found[i], e = expected[i];
    const bool ok = (std::isnan(f) && std::isnan(e)) || f == e ||
                    std::abs(f - e) <= tol.atol + tol.rtol * std::abs(e);
    if (!ok && mismatches++ < 3)
      first << " [" << i << "] found " << f << " expected " << e << ";";
  }
  INFO(mismatches << " of " << found.size() << " elements differ:" << first.str());
  CHECK(mismatches == 0);
}

std::vector<i64> unravel(i64 linear, const Shape& shape) {
  std::vector<i64> c(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    c[d] = linear % shape[d];
    linear /= shape[d];
  }
  return c;
}

i64 ravel(const std::vector<i64>& coords, const Shape& shape) {
  i64 linear = 0;
  for (std::size_t d = 0; d < shape.size(); ++d) linear = linear * shape[d] + coords[d];
  return linear;
}

Backend& fast() { return loom::backend_named("cpu"); }
Backend& reference() { return loom::backend_named("cpu-reference"); }

std::vector<DType> dtypes_to_test(Op op, const OpSpec& spec) {
  std::vector<DType> out;
  for (int i = 0; i < loom::kNumDTypes; ++i) {
    const DType t = static_cast<DType>(i);
    if (!fast().supports(op, t)) continue;
    INFO(loom::op_name(op) << " on " << loom::dtype_name(t)
                           << ": the fast backend supports it, so must the reference");
    CHECK(reference().supports(op, t));
    out.push_back(t);
  }
  for (DType t : spec.required) {
    INFO(loom::op_name(op) << " must be supported on " << loom::dtype_name(t));
    CHECK(fast().supports(op, t));
  }
  return out;
}

std::string describe(Op op, DType dtype, Layout layout, const Shape& shape) {
  std::ostringstream os;
  os << loom::op_name(op) << " " << loom::dtype_name(dtype) << " " << layout_name(layout) << " "
     << shape.str();
  return os.str();
}

}  // namespace conformance
