// Fast index kernels (reference kernels: reference_index.cpp).
#include <algorithm>

#include "backend.hpp"
#include "dtype_dispatch.hpp"
#include "element_ops.hpp"
#include "elementwise_loops.hpp"

namespace loom::cpu {
namespace {

// out[o] = x[o with its `dim` coordinate replaced by index[o']]: index_select and gather are both
// this, and differ only in how index is laid out over out's shape (index_strides). Walked as an
// elementwise op whose x operand has stride 0 along dim; a run over which the index is constant
// (an embedding row, a selected slice) is a plain strided copy.
template <typename T>
void gather_along_dim(const Tensor& out, const Tensor& x, int dim, const std::int64_t* index_data,
                      const Shape& index_strides) {
  Shape x_strides = x.strides();
  const std::int64_t x_dim_stride = extent_along(x, dim).second;
  if (x.dim() > 0) x_strides[dim] = 0;
  const StridedLayout<3> layout =
      make_layout<3>(out.sizes(), {out.strides(), x_strides, index_strides}, DimOrder::Memory);
  T* out_data = static_cast<T*>(out.raw_data());
  const T* x_data = static_cast<const T*>(x.raw_data());
  const std::int64_t out_stride = layout.inner_stride(0), x_stride = layout.inner_stride(1);
  const std::int64_t index_stride = layout.inner_stride(2);
  parallel_for(layout.numel, kMinElementsPerThread, [&](std::int64_t first, std::int64_t last) {
    for_each_run(layout, first, last, [&](const Offsets<3>& offset, std::int64_t, std::int64_t n) {
      T* out_run = out_data + offset[0];
      const T* x_run = x_data + offset[1];
      const std::int64_t* index_run = index_data + offset[2];
      if (index_stride == 0) {
        run_elementwise(out_run, out_stride, n, [](T v) { return v; },
                        RunInput<T>{x_run + index_run[0] * x_dim_stride, x_stride});
      } else {
        for (std::int64_t i = 0; i < n; ++i)
          out_run[i * out_stride] = x_run[i * x_stride + index_run[i * index_stride] * x_dim_stride];
      }
    });
  });
}

}  // namespace

void CpuBackend::index_select(const Tensor& out, const Tensor& x, int dim, const Tensor& index) {
  visit_dtype<kernel_dtypes(Op::index_select)>(Op::index_select, x.dtype(), [&]<typename T>(TypeTag<T>) {
    // index: (n,), laid over out's shape along dim.
    Shape index_strides(out.sizes().size(), 0);
    index_strides[dim] = extent_along(index, 0).second;
    gather_along_dim<T>(out, x, dim, static_cast<const std::int64_t*>(index.raw_data()), index_strides);
  });
}

void CpuBackend::gather(const Tensor& out, const Tensor& x, int dim, const Tensor& index) {
  visit_dtype<kernel_dtypes(Op::gather)>(Op::gather, x.dtype(), [&]<typename T>(TypeTag<T>) {
    gather_along_dim<T>(out, x, dim, static_cast<const std::int64_t*>(index.raw_data()), index.strides());
  });
}

// Deterministic without atomics: the work is split over the positions of every dim but `dim`.
// All terms an output element receives come from one such position, so one thread adds them,
// in increasing order along dim, as the reference kernel does.
void CpuBackend::scatter_add(const Tensor& out, int dim, const Tensor& index, const Tensor& src) {
  visit_dtype<kernel_dtypes(Op::scatter_add)>(Op::scatter_add, src.dtype(), [&]<typename T>(TypeTag<T>) {
    // Named, not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
    const auto along = extent_along(index, dim);
    const auto extent = along.first, index_dim_stride = along.second;
    const std::int64_t out_dim_stride = extent_along(out, dim).second;
    const std::int64_t src_dim_stride = extent_along(src, dim).second;
    Shape positions = index.sizes();
    if (index.dim() > 0) positions[dim] = 1;  // drops dim from the layout
    const StridedLayout<3> layout =
        make_layout<3>(positions, {out.strides(), index.strides(), src.strides()}, DimOrder::Memory);
    T* out_data = static_cast<T*>(out.raw_data());
    const std::int64_t* index_data = static_cast<const std::int64_t*>(index.raw_data());
    const T* src_data = static_cast<const T*>(src.raw_data());
    const std::int64_t out_stride = layout.inner_stride(0), index_stride = layout.inner_stride(1);
    const std::int64_t src_stride = layout.inner_stride(2);
    const ElementOp<Op::add> add;
    const std::int64_t grain = std::max<std::int64_t>(1, kMinElementsPerThread / extent);
    // Each position (every dim but `dim`) is owned by one thread, which adds its entries along
    // `dim` in order: the same order per target as the reference, whatever the partition. The
    // walk over positions happens once, with `dim` innermost (cheap even when `dim` is the
    // innermost memory dim, as in the backward of index_select along W).
    parallel_for(layout.numel, grain, [&](std::int64_t first, std::int64_t last) {
      for_each_run(layout, first, last, [&](const Offsets<3>& offset, std::int64_t, std::int64_t n) {
        for (std::int64_t j = 0; j < n; ++j) {
          T* out_base = out_data + offset[0] + j * out_stride;
          const std::int64_t* index_base = index_data + offset[1] + j * index_stride;
          const T* src_base = src_data + offset[2] + j * src_stride;
          for (std::int64_t i = 0; i < extent; ++i) {
            T& target = out_base[index_base[i * index_dim_stride] * out_dim_stride];
            target = add(target, src_base[i * src_dim_stride]);
          }
        }
      });
    });
  });
}

void CpuBackend::masked_fill(const Tensor& out, const Tensor& x, const Tensor& mask, Scalar value) {
  visit_dtype<kernel_dtypes(Op::masked_fill)>(Op::masked_fill, x.dtype(), [&]<typename T>(TypeTag<T>) {
    const T fill_value = scalar_to<T>(value);
    const auto fill_where_masked = [fill_value](T v, bool masked) { return masked ? fill_value : v; };
    map_elementwise<T, T, bool>(kMinElementsPerThread, fill_where_masked, out, x, mask);
  });
}

}  // namespace loom::cpu
