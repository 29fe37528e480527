#pragma once
// The two ways the CPU backends apply an element function f to operands of one shape:
//  - reference_map: serial, one multi-index at a time (the reference kernels);
//  - map_strided / map_elementwise: coalesced layout in memory order, inner runs specialised so
//    that the compiler vectorises them, split over the OpenMP pool (the fast kernels).
// `out` may be exactly the same view as an input: element i is read before it is written.
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

// map_strided over tensors that all have out's shape (the core broadcasts with stride-0 views).
template <typename Out, typename... In, typename F>
void map_elementwise(std::int64_t grain, const F& f, const Tensor& out, TensorRef<In>... in) {
  map_strided<Out, In...>(grain, f, out.sizes(), view_of<Out>(out), view_of<const In>(in)...);
}

}  // namespace loom::cpu
