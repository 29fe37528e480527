#pragma once
// Loop helpers shared by the CPU kernels.
//  - Reference side: for_each_index walks a shape in row-major order and StridedView turns a
//    multi-index into an element by plain offset arithmetic. Slow and obviously correct.
//  - Fast side: StridedLayout is the iteration space of N operands walked together, with dims
//    reordered to memory order and adjacent dims coalesced, so that channels-last and
//    transposed operands still get a long unit-stride inner loop; for_each_run visits a
//    linear range of it in runs along the innermost dim; parallel_for splits a range over the
//    OpenMP pool by a fixed partition (same thread count → same chunks → same results).
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "loom/shape.hpp"
#include "loom/tensor.hpp"

namespace loom::cpu {

// ---- reference side ------------------------------------------------------------------------------

// Calls body(index) for every multi-index of `sizes` in row-major order (once for rank 0).
template <typename Body>
void for_each_index(const Shape& sizes, Body&& body) {
  if (sizes.numel() == 0) return;
  Shape index(sizes.size(), 0);
  while (true) {
    body(static_cast<const Shape&>(index));
    std::size_t d = sizes.size();
    while (true) {  // odometer: the last dim turns fastest
      if (d == 0) return;
      --d;
      if (++index[d] < sizes[d]) break;
      index[d] = 0;
    }
  }
}

inline std::int64_t element_offset(const Shape& index, const Shape& strides) {
  std::int64_t offset = 0;
  for (std::size_t d = 0; d < index.size(); ++d) offset += index[d] * strides[d];
  return offset;
}

// A tensor's elements addressed by multi-index; T is const for inputs.
template <typename T>
struct StridedView {
  T* data;
  const Shape* strides;

  T& at(const Shape& index) const { return data[element_offset(index, *strides)]; }
};

template <typename T>
StridedView<T> view_of(const Tensor& t) {
  return {static_cast<T*>(t.raw_data()), &t.strides()};
}

// The size and stride of t along dim; a 0-dim t (which the core lets take dim 0) is one element.
inline std::pair<std::int64_t, std::int64_t> extent_along(const Tensor& t, int dim) {
  if (t.dim() == 0) return {1, 0};
  return {t.size(dim), t.stride(dim)};
}

// ---- fast side: layouts ---------------------------------------------------------------------------

// Element offsets of N operands at one position of a layout.
template <int N>
using Offsets = std::array<std::int64_t, N>;

template <int N>
struct StridedLayout {
  Shape sizes;                   // outermost dim first; never empty
  std::array<Shape, N> strides;  // per operand, in elements
  std::int64_t numel = 1;

  std::size_t inner_dim() const { return sizes.size() - 1; }
  std::int64_t inner_size() const { return sizes.back(); }
  std::int64_t inner_stride(int operand) const { return strides[operand].back(); }
};

enum class DimOrder {
  RowMajor,  // keep the logical order (random kernels number elements row-major)
  Memory,    // reorder dims by the operands' strides, largest outermost
};

namespace detail {
// Whether dim `inner` should be iterated outside dim `outer`: the first operand whose strides
// differ in the two dims decides; stride 0 (broadcast) says nothing about memory order.
template <int N>
bool belongs_outside(const std::array<Shape, N>& strides, std::int64_t outer, std::int64_t inner) {
  for (int k = 0; k < N; ++k) {
    const std::int64_t so = strides[k][outer], si = strides[k][inner];
    if (so == 0 || si == 0 || so == si) continue;
    return si > so;
  }
  return false;
}
}  // namespace detail

// The iteration space of N operands of shape `sizes`. Dims of size 1 are dropped, and two
// adjacent dims are merged when every operand steps through them as through one dim.
template <int N>
StridedLayout<N> make_layout(const Shape& sizes, const std::array<Shape, N>& strides, DimOrder order) {
  Shape dims;  // the dims that take part, outermost first
  for (std::size_t d = 0; d < sizes.size(); ++d)
    if (sizes[d] != 1) dims.push_back(static_cast<std::int64_t>(d));
  if (order == DimOrder::Memory) {
    // Insertion sort: stable, and ranks are small.
    for (std::size_t i = 1; i < dims.size(); ++i)
      for (std::size_t j = i; j > 0 && detail::belongs_outside<N>(strides, dims[j - 1], dims[j]); --j)
        std::swap(dims[j - 1], dims[j]);
  }

  StridedLayout<N> layout;
  for (std::int64_t d : dims) {
    bool mergeable = !layout.sizes.empty();
    for (int k = 0; k < N && mergeable; ++k)
      mergeable = layout.strides[k].back() == strides[k][d] * sizes[d];
    if (mergeable) {
      const std::size_t last = layout.sizes.size() - 1;
      layout.sizes[last] *= sizes[d];
      for (int k = 0; k < N; ++k) layout.strides[k][last] = strides[k][d];
    } else {
      layout.sizes.push_back(sizes[d]);
      for (int k = 0; k < N; ++k) layout.strides[k].push_back(strides[k][d]);
    }
    layout.numel *= sizes[d];
  }
  if (layout.sizes.empty()) {  // a single element
    layout.sizes.push_back(1);
    for (int k = 0; k < N; ++k) layout.strides[k].push_back(0);
  }
  return layout;
}

// Calls body(offsets, position, length) for consecutive runs covering positions [begin, end)
// of the layout (position = linear index, outermost dim slowest). A run lies within one row of
// the innermost dim; offsets[k] is operand k's element offset at the run's first position.
template <int N, typename Body>
void for_each_run(const StridedLayout<N>& layout, std::int64_t begin, std::int64_t end, Body&& body) {
  if (begin >= end) return;
  const std::size_t inner = layout.inner_dim();
  const std::int64_t row_length = layout.inner_size();

  // Multi-index and offsets of the start of begin's row.
  Shape index(layout.sizes.size(), 0);
  Offsets<N> row_offsets{};
  std::int64_t row = begin / row_length;
  for (std::size_t d = inner; d-- > 0;) {
    index[d] = row % layout.sizes[d];
    row /= layout.sizes[d];
    for (int k = 0; k < N; ++k) row_offsets[k] += index[d] * layout.strides[k][d];
  }

  std::int64_t column = begin % row_length;
  std::int64_t position = begin;
  while (true) {
    const std::int64_t length = std::min(row_length - column, end - position);
    Offsets<N> offsets;
    for (int k = 0; k < N; ++k) offsets[k] = row_offsets[k] + column * layout.strides[k][inner];
    body(static_cast<const Offsets<N>&>(offsets), position, length);
    position += length;
    if (position >= end) return;
    column = 0;
    for (std::size_t d = inner; d-- > 0;) {  // odometer over the outer dims
      for (int k = 0; k < N; ++k) row_offsets[k] += layout.strides[k][d];
      if (++index[d] < layout.sizes[d]) break;
      for (int k = 0; k < N; ++k) row_offsets[k] -= index[d] * layout.strides[k][d];
      index[d] = 0;
    }
  }
}

// ---- fast side: threads ---------------------------------------------------------------------------

// Work per thread below which a kernel stays serial: a thread should get a few times the ~0.5 µs
// an OpenMP fork/join costs on the 2-core reference machine. 16k float adds from cache take
// ~1.3 µs, so cheap elementwise ops run serially below 32k elements; ops that call glibc's
// transcendental functions (1-5 ns an element) or draw Philox numbers (up to ~50 ns) below 4k.
inline constexpr std::int64_t kMinElementsPerThread = 16384;
inline constexpr std::int64_t kMinCostlyElementsPerThread = 2048;

// Threads worth using for `work` items when each thread should get at least `grain` of them;
// 1 inside an OpenMP region (nested regions would oversubscribe).
inline int threads_for(std::int64_t work, std::int64_t grain) {
  if (work < 2 * grain || omp_in_parallel()) return 1;
  return static_cast<int>(std::min<std::int64_t>(omp_get_max_threads(), work / grain));
}

// Part `part` of [0, n) split into `parts` chunks whose sizes differ by at most one.
inline std::pair<std::int64_t, std::int64_t> static_chunk(std::int64_t n, int parts, int part) {
  const std::int64_t base = n / parts, extra = n % parts;
  const std::int64_t first = part * base + std::min<std::int64_t>(part, extra);
  return {first, first + base + (part < extra ? 1 : 0)};
}

// Runs body(begin, end) over a fixed partition of [0, n) across the pool, or once over the
// whole range without an OpenMP region when the work is small. The body must not throw.
template <typename Body>
void parallel_for(std::int64_t n, std::int64_t grain, Body&& body) {
  const int threads = threads_for(n, grain);
  if (threads <= 1) {
    if (n > 0) body(std::int64_t{0}, n);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const auto [first, last] = static_chunk(n, omp_get_num_threads(), omp_get_thread_num());
    if (first < last) body(first, last);
  }
}

// Sums partial(begin, end) over a fixed partition of [0, n), combining the partials in
// partition order: bit-identical for the same thread count, no atomics.
template <typename Acc, typename Partial>
Acc parallel_sum(std::int64_t n, std::int64_t grain, Partial&& partial) {
  const int threads = threads_for(n, grain);
  if (threads <= 1) return n > 0 ? partial(std::int64_t{0}, n) : Acc{};
  struct alignas(64) Slot {  // one cache line per thread: no false sharing
    Acc value{};
  };
  std::vector<Slot> slots(static_cast<std::size_t>(threads));
  int team = 1;
#pragma omp parallel num_threads(threads)
  {
    const int parts = omp_get_num_threads(), part = omp_get_thread_num();
    if (part == 0) team = parts;
    const auto [first, last] = static_chunk(n, parts, part);
    if (first < last) slots[part].value = partial(first, last);
  }
  Acc total{};
  for (int part = 0; part < team; ++part) total += slots[part].value;
  return total;
}

}  // namespace loom::cpu
