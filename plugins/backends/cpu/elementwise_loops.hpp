#pragma once
// The two ways the CPU backends apply an element function f to operands of one shape:
//  - reference_map: serial, one multi-index at a time (the reference kernels);
//  - map_strided / map_elementwise: coalesced layout in memory order, inner runs specialised so
//    that the compiler vectorises them, split over the OpenMP pool (the fast kernels).
// `out` may be exactly the same view as an input: element i is read before it is written.
#include <algorithm>
#include <array>
#include <cstdint>
#include <tuple>
#include <utility>

#include "strided_iteration.hpp"

namespace loom::cpu {

// ---- reference ----------------------------------------------------------------------------------

// out[i] = f(in[i]...) for every multi-index i of `sizes`, in row-major order.
template <typename Out, typename... In, typename F>
void reference_map(const Shape& sizes, const F& f, StridedView<Out> out, StridedView<const In>... in) {
  for_each_index(sizes, [&](const Shape& index) { out.at(index) = f(in.at(index)...); });
}

// ---- fast -----------------------------------------------------------------------------------------

// One input of a run: its element at the run's start and its stride along the run.
template <typename T>
struct RunInput {
  const T* data;
  std::int64_t stride;
};

namespace detail {
template <typename T>
struct Contiguous {
  const T* data;
  T operator[](std::int64_t i) const { return data[i]; }
};
template <typename T>
struct Broadcast {
  T value;
  T operator[](std::int64_t) const { return value; }
};

// Picks an accessor type per input from its runtime stride (1 or 0), so that the loop the
// compiler finally sees has only unit-stride loads and loop-invariant values: the shape of loop
// it vectorises.
template <typename Out, typename F, typename... Accessors>
void run_dense(Out* out, std::int64_t n, const F& f, const std::tuple<Accessors...>& inputs) {
  std::apply(
      [&](const auto&... in) {
        for (std::int64_t i = 0; i < n; ++i) out[i] = f(in[i]...);
      },
      inputs);
}
template <typename Out, typename F, typename... Accessors, typename T, typename... Rest>
void run_dense(Out* out, std::int64_t n, const F& f, const std::tuple<Accessors...>& chosen,
               RunInput<T> next, Rest... rest) {
  if (next.stride == 0)
    run_dense(out, n, f, std::tuple_cat(chosen, std::tuple{Broadcast<T>{*next.data}}), rest...);
  else
    run_dense(out, n, f, std::tuple_cat(chosen, std::tuple{Contiguous<T>{next.data}}), rest...);
}
}  // namespace detail

// out[i * out_stride] = f(in[i * stride]...) for i < n.
template <typename Out, typename F, typename... In>
void run_elementwise(Out* out, std::int64_t out_stride, std::int64_t n, const F& f, RunInput<In>... in) {
  if (out_stride == 1 && ((in.stride == 0 || in.stride == 1) && ...)) {
    detail::run_dense(out, n, f, std::tuple<>{}, in...);
    return;
  }
  for (std::int64_t i = 0; i < n; ++i) out[i * out_stride] = f(in.data[i * in.stride]...);
}

// out[i] = f(in[i]...) over `sizes`; operands are given by their first element and strides.
template <typename Out, typename... In, typename F>
void map_strided(std::int64_t grain, const F& f, const Shape& sizes, StridedView<Out> out,
                 StridedView<const In>... in) {
  constexpr int N = 1 + sizeof...(In);
  const StridedLayout<N> layout = make_layout<N>(sizes, {*out.strides, *in.strides...}, DimOrder::Memory);
  const std::tuple<const In*...> in_data{in.data...};
  parallel_for(layout.numel, grain, [&](std::int64_t begin, std::int64_t end) {
    for_each_run(layout, begin, end, [&](const Offsets<N>& offset, std::int64_t, std::int64_t n) {
      [&]<std::size_t... K>(std::index_sequence<K...>) {
        run_elementwise(out.data + offset[0], layout.inner_stride(0), n, f,
                        RunInput<In>{std::get<K>(in_data) + offset[K + 1], layout.inner_stride(K + 1)}...);
      }(std::index_sequence_for<In...>{});
    });
  });
}

template <typename>
using TensorRef = const Tensor&;

namespace detail {
// An input's step when out is contiguous and walked as one flat run: 1 when it has out's
// strides (so element i is at data + i), 0 when it is one broadcast value, -1 otherwise.
// Size-1 dims are skipped: their strides address nothing (e.g. a bias (8) expanded to (1, 8)).
inline std::int64_t flat_step(const Tensor& in, const Tensor& out) {
  const Shape& sizes = out.sizes();
  const Shape& in_strides = in.strides();
  const Shape& out_strides = out.strides();
  bool same = true, broadcast = true;
  for (std::size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 1) continue;
    same = same && in_strides[d] == out_strides[d];
    broadcast = broadcast && in_strides[d] == 0;
  }
  return same ? 1 : broadcast ? 0 : -1;
}
}  // namespace detail

// map_strided over tensors that all have out's shape (the core broadcasts with stride-0 views).
template <typename Out, typename... In, typename F>
void map_elementwise(std::int64_t grain, const F& f, const Tensor& out, TensorRef<In>... in) {
  // The common case (dense operands of one layout, or broadcast scalars) as one flat run: no
  // layout to build, which for a tiny tensor costs more than the loop itself.
  if (out.is_contiguous()) {
    const std::array<std::int64_t, sizeof...(In)> steps{detail::flat_step(in, out)...};
    if (std::all_of(steps.begin(), steps.end(), [](std::int64_t s) { return s >= 0; })) {
      Out* out_data = static_cast<Out*>(out.raw_data());
      const std::tuple<const In*...> in_data{static_cast<const In*>(in.raw_data())...};
      parallel_for(out.numel(), grain, [&](std::int64_t begin, std::int64_t end) {
        [&]<std::size_t... K>(std::index_sequence<K...>) {
          run_elementwise(out_data + begin, 1, end - begin, f,
                          RunInput<In>{std::get<K>(in_data) + begin * steps[K], steps[K]}...);
        }(std::index_sequence_for<In...>{});
      });
      return;
    }
  }
  map_strided<Out, In...>(grain, f, out.sizes(), view_of<Out>(out), view_of<const In>(in)...);
}

}  // namespace loom::cpu
