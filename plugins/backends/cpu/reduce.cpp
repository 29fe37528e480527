// Fast reductions (reference kernels: reference_reduce.cpp).
//
// sum splits x's dims, in memory order, into kept dims (out has them) and reduced dims, and
// takes one of two shapes of loop:
//  - along rows, when x's innermost memory dim is reduced (sum over H·W of NCHW, over features
//    of (N, F)): each output is a sum of unit-stride runs, vectorised in float lanes;
//  - down columns, when it is kept (bias gradients: (N, F) → (1, F); channels-last statistics):
//    a tile of outputs accumulates x's rows one after another, vectorised across the tile.
// Each output is summed by one thread in a fixed order, so the result does not depend on the
// thread count, except for a few long sums (fewer outputs than threads), which are split over
// the pool into a fixed partition by thread count and combined in partition order.
#include <algorithm>
#include <type_traits>

#include "backend.hpp"
#include "dtype_dispatch.hpp"
#include "reduce_common.hpp"
#include "strided_iteration.hpp"

namespace loom::cpu {
namespace {

// What fast sums accumulate in: double for floating inputs, and uint64 for integral ones, which
// wraps around on overflow like int64 out does (signed overflow would be undefined).
template <typename T>
using FastSumType = std::conditional_t<std::is_floating_point_v<T>, double, std::uint64_t>;

// Sum of x[0], x[stride], ..., x[(n - 1) * stride]. Unit-stride floating runs are summed in
// blocks of 1024 with 16 lanes of T (which the compiler vectorises) and the block sums in Acc:
// the speed of float adds with the rounding error of 64-term float sums.
template <typename Acc, typename In>
Acc strided_sum(const In* x, std::int64_t n, std::int64_t stride) {
  Acc total = 0;
  std::int64_t i = 0;
  if constexpr (std::is_floating_point_v<In>) {
    constexpr std::int64_t kLanes = 16, kBlock = 1024;
    if (stride == 1) {
      while (n - i >= kLanes) {
        In lanes[kLanes] = {};
        const std::int64_t block_end = i + std::min(kBlock, (n - i) / kLanes * kLanes);
        for (; i < block_end; i += kLanes)
          for (std::int64_t l = 0; l < kLanes; ++l) lanes[l] += x[i + l];
        for (std::int64_t l = 0; l < kLanes; ++l) total += lanes[l];
      }
    }
  }
  for (; i < n; ++i) total += static_cast<Acc>(x[i * stride]);
  return total;
}

constexpr std::int64_t kColumnTile = 256;

// acc[t] += x[r * row_stride + t * column_stride] for r < rows, t < width (≤ kColumnTile). As in
// strided_sum, unit-stride floating rows are first added up in blocks of 64 in T (vectorised
// 4-wide), and the block sums in Acc.
template <typename Acc, typename In>
void add_rows(Acc* acc, const In* x, std::int64_t rows, std::int64_t row_stride, std::int64_t width,
              std::int64_t column_stride) {
  if constexpr (std::is_floating_point_v<In>) {
    constexpr std::int64_t kBlock = 64;
    if (column_stride == 1) {
      In block[kColumnTile];
      for (std::int64_t block_start = 0; block_start < rows; block_start += kBlock) {
        std::fill_n(block, width, In(0));
        const std::int64_t block_end = std::min(rows, block_start + kBlock);
        for (std::int64_t r = block_start; r < block_end; ++r)
          for (std::int64_t t = 0; t < width; ++t) block[t] += x[r * row_stride + t];
        for (std::int64_t t = 0; t < width; ++t) acc[t] += block[t];
      }
      return;
    }
  }
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t t = 0; t < width; ++t) acc[t] += static_cast<Acc>(x[r * row_stride + t * column_stride]);
}

// x's dims split into kept dims (operands x and out) and reduced dims (operand x), each
// coalesced and kept in x's memory order.
struct ReductionPlan {
  StridedLayout<2> kept;
  StridedLayout<1> reduced;
  bool along_rows;  // x's innermost memory dim is reduced
};

ReductionPlan plan_reduction(const Tensor& out, const Tensor& x) {
  const StridedLayout<2> full =
      make_layout<2>(x.sizes(), {x.strides(), reduction_out_strides(out, x)}, DimOrder::Memory);
  Shape kept_sizes, kept_x, kept_out, reduced_sizes, reduced_x;
  for (std::size_t d = 0; d < full.sizes.size(); ++d) {
    if (full.strides[1][d] == 0) {
      reduced_sizes.push_back(full.sizes[d]);
      reduced_x.push_back(full.strides[0][d]);
    } else {
      kept_sizes.push_back(full.sizes[d]);
      kept_x.push_back(full.strides[0][d]);
      kept_out.push_back(full.strides[1][d]);
    }
  }
  return {make_layout<2>(kept_sizes, {kept_x, kept_out}, DimOrder::RowMajor),
          make_layout<1>(reduced_sizes, {reduced_x}, DimOrder::RowMajor),
          full.inner_stride(1) == 0};
}

template <typename In>
void fast_sum(const Tensor& out, const Tensor& x) {
  using Acc = FastSumType<In>;
  using Out = SumOutType<In>;
  const ReductionPlan plan = plan_reduction(out, x);
  const In* x_data = static_cast<const In*>(x.raw_data());
  Out* out_data = static_cast<Out*>(out.raw_data());
  const std::int64_t outputs = plan.kept.numel, terms = plan.reduced.numel;
  const std::int64_t kept_x_stride = plan.kept.inner_stride(0), kept_out_stride = plan.kept.inner_stride(1);
  const std::int64_t reduced_x_stride = plan.reduced.inner_stride(0);
  const std::int64_t outputs_per_thread = std::max<std::int64_t>(1, kMinElementsPerThread / terms);

  // Terms [begin, end) of the sum whose first term is x_data[x_offset].
  auto partial_sum = [&](std::int64_t x_offset, std::int64_t begin, std::int64_t end) {
    Acc total = 0;
    for_each_run(plan.reduced, begin, end, [&](const Offsets<1>& offset, std::int64_t, std::int64_t n) {
      total += strided_sum<Acc>(x_data + x_offset + offset[0], n, reduced_x_stride);
    });
    return total;
  };

  if (plan.along_rows && outputs < omp_get_max_threads()) {
    // Few long sums (a full reduction): each split over the pool.
    for_each_run(plan.kept, 0, outputs, [&](const Offsets<2>& offset, std::int64_t, std::int64_t n) {
      for (std::int64_t j = 0; j < n; ++j) {
        const std::int64_t x_offset = offset[0] + j * kept_x_stride;
        const Acc total = parallel_sum<Acc>(terms, kMinElementsPerThread, [&](std::int64_t begin, std::int64_t end) {
          return partial_sum(x_offset, begin, end);
        });
        out_data[offset[1] + j * kept_out_stride] = static_cast<Out>(total);
      }
    });
  } else if (plan.along_rows) {
    parallel_for(outputs, outputs_per_thread, [&](std::int64_t first, std::int64_t last) {
      for_each_run(plan.kept, first, last, [&](const Offsets<2>& offset, std::int64_t, std::int64_t n) {
        for (std::int64_t j = 0; j < n; ++j) {
          const Acc total = partial_sum(offset[0] + j * kept_x_stride, 0, terms);
          out_data[offset[1] + j * kept_out_stride] = static_cast<Out>(total);
        }
      });
    });
  } else {
    // Down columns: a tile of neighbouring outputs adds x's rows one after another.
    parallel_for(outputs, outputs_per_thread, [&](std::int64_t first, std::int64_t last) {
      for_each_run(plan.kept, first, last, [&](const Offsets<2>& offset, std::int64_t, std::int64_t n) {
        for (std::int64_t tile_start = 0; tile_start < n; tile_start += kColumnTile) {
          const std::int64_t width = std::min(kColumnTile, n - tile_start);
          const In* tile_x = x_data + offset[0] + tile_start * kept_x_stride;
          Acc acc[kColumnTile] = {};
          for_each_run(plan.reduced, 0, terms, [&](const Offsets<1>& row_offset, std::int64_t, std::int64_t rows) {
            add_rows(acc, tile_x + row_offset[0], rows, reduced_x_stride, width, kept_x_stride);
          });
          Out* tile_out = out_data + offset[1] + tile_start * kept_out_stride;
          for (std::int64_t t = 0; t < width; ++t) tile_out[t * kept_out_stride] = static_cast<Out>(acc[t]);
        }
      });
    });
  }
}

// One thread per output position; each scans its run along dim with find_extremum.
template <Op op>
void fast_extremum(const Tensor& values, const Tensor& indices, const Tensor& x, int dim) {
  visit_dtype<kernel_dtypes(op)>(op, x.dtype(), [&]<typename T>(TypeTag<T>) {
    // Named, not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
    const auto along = extent_along(x, dim);
    const auto extent = along.first, stride = along.second;
    // Over values' shape dim has size 1, so x's strides there address the start of each scan.
    const StridedLayout<3> layout = make_layout<3>(
        values.sizes(), {values.strides(), indices.strides(), x.strides()}, DimOrder::Memory);
    T* value_data = static_cast<T*>(values.raw_data());
    std::int64_t* index_data = static_cast<std::int64_t*>(indices.raw_data());
    const T* x_data = static_cast<const T*>(x.raw_data());
    const std::int64_t grain = std::max<std::int64_t>(1, kMinElementsPerThread / extent);
    parallel_for(layout.numel, grain, [&](std::int64_t first, std::int64_t last) {
      for_each_run(layout, first, last, [&](const Offsets<3>& offset, std::int64_t, std::int64_t n) {
        for (std::int64_t j = 0; j < n; ++j) {
          const auto [best, at] = find_extremum<op == Op::max>(x_data + offset[2] + j * layout.inner_stride(2), extent, stride);
          value_data[offset[0] + j * layout.inner_stride(0)] = best;
          index_data[offset[1] + j * layout.inner_stride(1)] = at;
        }
      });
    });
  });
}

}  // namespace

void CpuBackend::sum(const Tensor& out, const Tensor& x) {
  visit_dtype<kernel_dtypes(Op::sum)>(Op::sum, x.dtype(), [&]<typename T>(TypeTag<T>) { fast_sum<T>(out, x); });
}

// Products are rare in training (no layer needs one): the reference kernel serves them.
void CpuBackend::prod(const Tensor& out, const Tensor& x) { CpuReferenceBackend::prod(out, x); }

void CpuBackend::max(const Tensor& values, const Tensor& indices, const Tensor& x, int dim) {
  fast_extremum<Op::max>(values, indices, x, dim);
}

void CpuBackend::min(const Tensor& values, const Tensor& indices, const Tensor& x, int dim) {
  fast_extremum<Op::min>(values, indices, x, dim);
}

}  // namespace loom::cpu
