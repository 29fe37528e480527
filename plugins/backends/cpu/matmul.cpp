// Fast bmm (reference kernel: reference_matmul.cpp). Routing, from timings on the 2-core
// AVX-512 reference machine with 2 threads (row-major, µs per call):
//  - tiny products, M·N·K ≤ 256, or ≤ 4096 for a single row (M = 1): a plain serial loop.
//    1×8·8×8 takes 0.04 µs against 0.07 in OpenBLAS and 0.11 in oneDNN; 1×32·32×32 0.10 µs
//    against 0.17 and 0.15; but 8×8·8×8 already 0.17 µs against OpenBLAS's 0.08.
//  - float32, M > 1 and M·N·K < 16384 (up to ~24³): OpenBLAS cblas_sgemm, whose call overhead is
//    lower (16³: 0.17 µs vs 0.28 in oneDNN).
//  - other float32: oneDNN dnnl_sgemm, about twice OpenBLAS 0.3.21 (which runs its AVX2 Haswell
//    kernels here): 128×784·784×256 in 124 µs vs 263 µs; 1024³ at 369 vs 224 GFLOP/s.
//  - float64: OpenBLAS cblas_dgemm (oneDNN has no double GEMM).
// Operands are handed to GEMM in place when each 2-D slice has unit stride in one of its last
// two dims: a transposed view (x·Wᵀ) becomes a transpose flag. Other operands are copied to
// contiguous first. Small GEMMs of a batch run in parallel over the batch, one thread each; large
// ones run one after another, each using the whole pool inside the library.
#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>

#include <cassert>
#include <optional>

#include "allocator.hpp"
#include "backend.hpp"
#include "dtype_dispatch.hpp"
#include "elementwise_loops.hpp"

namespace loom::cpu {
namespace {

constexpr std::int64_t kTinyGemm = 256;             // M·N·K up to this: serial loop
constexpr std::int64_t kTinyRowGemm = 4096;         // the same for M = 1
constexpr std::int64_t kSmallGemm = 16384;          // float32 M·N·K below this (M > 1): OpenBLAS
constexpr std::int64_t kBatchParallelGemm = 262144;  // M·N·K below this (64³): parallel over batch
constexpr std::int64_t kMinMacsPerThread = 32768;

// How a (rows, cols) slice is handed to a row-major GEMM: stored row-major (op = N) or
// column-major (op = T), with leading dimension ld.
struct GemmMatrix {
  bool transposed;
  std::int64_t ld;
};

GemmMatrix transpose(GemmMatrix m) { return {!m.transposed, m.ld}; }

// A slice with strides (row_stride, col_stride) as a GEMM operand, if BLAS can read it in place.
// A size-1 dim's stride does not matter; a leading dimension must cover a whole row (column).
std::optional<GemmMatrix> as_gemm_matrix(std::int64_t rows, std::int64_t cols, std::int64_t row_stride,
                                         std::int64_t col_stride) {
  if ((cols == 1 || col_stride == 1) && (rows == 1 || row_stride >= cols))
    return GemmMatrix{false, rows == 1 ? cols : row_stride};
  if ((rows == 1 || row_stride == 1) && (cols == 1 || col_stride >= rows))
    return GemmMatrix{true, cols == 1 ? rows : col_stride};
  return std::nullopt;
}

// c (m, n) = a (m, k) · b (k, n), all row-major-addressed through their GemmMatrix.
template <typename T>
void gemm(std::int64_t m, std::int64_t n, std::int64_t k, const T* a, GemmMatrix a_layout, const T* b,
          GemmMatrix b_layout, T* c, std::int64_t ldc) {
  const auto op = [](GemmMatrix g) { return g.transposed ? CblasTrans : CblasNoTrans; };
  if constexpr (std::is_same_v<T, float>) {
    if (m > 1 && m * n * k < kSmallGemm) {
      cblas_sgemm(CblasRowMajor, op(a_layout), op(b_layout), m, n, k, 1.0f, a, a_layout.ld, b, b_layout.ld, 0.0f,
                  c, ldc);
    } else {
      [[maybe_unused]] const dnnl_status_t status =
          dnnl_sgemm(a_layout.transposed ? 'T' : 'N', b_layout.transposed ? 'T' : 'N', m, n, k, 1.0f, a,
                     a_layout.ld, b, b_layout.ld, 0.0f, c, ldc);
      assert(status == dnnl_success && "dnnl_sgemm rejected arguments as_gemm_matrix accepted");
    }
  } else {
    cblas_dgemm(CblasRowMajor, op(a_layout), op(b_layout), m, n, k, 1.0, a, a_layout.ld, b, b_layout.ld, 0.0, c,
                ldc);
  }
}

// out (m, n) = a (m, k) · b (k, n) over arbitrary strides, i-k-j order so that the inner loop
// runs along rows of b and out (vectorised when they are unit-stride).
template <typename T>
void tiny_gemm(std::int64_t m, std::int64_t n, std::int64_t k, const T* a, const Shape& a_strides, const T* b,
               const Shape& b_strides, T* out, const Shape& out_strides) {
  const std::int64_t a_rs = a_strides[1], a_cs = a_strides[2], b_rs = b_strides[1], b_cs = b_strides[2];
  const std::int64_t o_rs = out_strides[1], o_cs = out_strides[2];
  for (std::int64_t i = 0; i < m; ++i) {
    T* out_row = out + i * o_rs;
    for (std::int64_t j = 0; j < n; ++j) out_row[j * o_cs] = T(0);
    for (std::int64_t p = 0; p < k; ++p) {
      const T a_ip = a[i * a_rs + p * a_cs];
      const T* b_row = b + p * b_rs;
      for (std::int64_t j = 0; j < n; ++j) out_row[j * o_cs] += a_ip * b_row[j * b_cs];
    }
  }
}

// A (batch, rows, cols) operand as GEMM reads it: in place, or a contiguous copy when its slices
// are not BLAS-readable. A batch stride of 0 (one slice shared by the batch) is kept.
template <typename T>
struct GemmOperand {
  const T* data;
  std::int64_t batch_stride;
  GemmMatrix layout;
  std::optional<ScratchBuffer> copy;
};

template <typename T>
void prepare_operand(GemmOperand<T>& operand, Allocator& allocator, const Tensor& t) {
  const std::int64_t batch = t.size(0), rows = t.size(1), cols = t.size(2);
  operand.data = static_cast<const T*>(t.raw_data());
  operand.batch_stride = batch == 1 ? 0 : t.stride(0);
  if (const auto layout = as_gemm_matrix(rows, cols, t.stride(1), t.stride(2))) {
    operand.layout = *layout;
    return;
  }
  const std::int64_t slices = operand.batch_stride == 0 ? 1 : batch;
  operand.copy.emplace(allocator, static_cast<std::size_t>(slices * rows * cols) * sizeof(T));
  T* contiguous = operand.copy->template as<T>();
  const Shape sizes{slices, rows, cols}, from_strides{t.stride(0), t.stride(1), t.stride(2)};
  const Shape to_strides{rows * cols, cols, 1};
  map_strided<T, T>(kMinElementsPerThread, [](T v) { return v; }, sizes, StridedView<T>{contiguous, &to_strides},
                    StridedView<const T>{operand.data, &from_strides});
  operand.data = contiguous;
  operand.batch_stride = operand.batch_stride == 0 ? 0 : rows * cols;
  operand.layout = {false, cols};
}

template <typename T>
void fast_bmm(Allocator& allocator, const Tensor& out, const Tensor& a, const Tensor& b) {
  // out: (B, M, N), a: (B, M, K), b: (B, K, N)
  const std::int64_t batch = out.size(0), m = out.size(1), n = out.size(2), k = a.size(2);
  T* out_data = static_cast<T*>(out.raw_data());
  if (k == 0) {
    map_elementwise<T>(kMinElementsPerThread, [] { return T(0); }, out);
    return;
  }
  const std::int64_t macs = m * n * k;
  if (macs <= (m == 1 ? kTinyRowGemm : kTinyGemm)) {
    const T* a_data = static_cast<const T*>(a.raw_data());
    const T* b_data = static_cast<const T*>(b.raw_data());
    const Shape &a_strides = a.strides(), &b_strides = b.strides(), &out_strides = out.strides();
    const std::int64_t batches_per_thread = std::max<std::int64_t>(1, kMinMacsPerThread / macs);
    parallel_for(batch, batches_per_thread, [&](std::int64_t first, std::int64_t last) {
      for (std::int64_t i = first; i < last; ++i)
        tiny_gemm(m, n, k, a_data + i * a_strides[0], a_strides, b_data + i * b_strides[0], b_strides,
                  out_data + i * out_strides[0], out_strides);
    });
    return;
  }

  GemmOperand<T> lhs, rhs;
  prepare_operand(lhs, allocator, a);
  prepare_operand(rhs, allocator, b);
  // out is written in place when row-major (C) or column-major (then Cᵀ = Bᵀ·Aᵀ is computed);
  // otherwise into a contiguous buffer copied back at the end.
  std::optional<GemmMatrix> out_layout = as_gemm_matrix(m, n, out.stride(1), out.stride(2));
  std::int64_t out_batch_stride = out.stride(0);
  std::optional<ScratchBuffer> out_buffer;
  T* c_data = out_data;
  if (!out_layout) {
    out_buffer.emplace(allocator, static_cast<std::size_t>(batch * m * n) * sizeof(T));
    c_data = out_buffer->template as<T>();
    out_layout = GemmMatrix{false, n};
    out_batch_stride = m * n;
  }

  // One slice of b for the whole batch, and a's and out's rows evenly spaced through the batch:
  // the batch folds into one GEMM of B·M rows (a batched x·W).
  const std::int64_t folded_a_ld = m == 1 ? lhs.batch_stride : lhs.layout.ld;
  const std::int64_t folded_c_ld = m == 1 ? out_batch_stride : out_layout->ld;
  const bool fold_batch = batch > 1 && rhs.batch_stride == 0 && !lhs.layout.transposed &&
                          !out_layout->transposed && lhs.batch_stride == m * folded_a_ld &&
                          out_batch_stride == m * folded_c_ld && folded_a_ld >= k && folded_c_ld >= n;

  auto multiply = [&](std::int64_t i) {
    const T* a_slice = lhs.data + i * lhs.batch_stride;
    const T* b_slice = rhs.data + i * rhs.batch_stride;
    T* c_slice = c_data + i * out_batch_stride;
    if (!out_layout->transposed)
      gemm<T>(m, n, k, a_slice, lhs.layout, b_slice, rhs.layout, c_slice, out_layout->ld);
    else
      gemm<T>(n, m, k, b_slice, transpose(rhs.layout), a_slice, transpose(lhs.layout), c_slice, out_layout->ld);
  };
  if (fold_batch) {
    gemm<T>(batch * m, n, k, lhs.data, {false, folded_a_ld}, rhs.data, rhs.layout, c_data, folded_c_ld);
  } else if (batch > 1 && macs < kBatchParallelGemm) {
    // Inside the region the libraries see omp_in_parallel() and run single-threaded.
    const std::int64_t batches_per_thread = std::max<std::int64_t>(1, kMinMacsPerThread / macs);
    parallel_for(batch, batches_per_thread, [&](std::int64_t first, std::int64_t last) {
      for (std::int64_t i = first; i < last; ++i) multiply(i);
    });
  } else {
    for (std::int64_t i = 0; i < batch; ++i) multiply(i);
  }

  if (out_buffer) {
    const Shape sizes = out.sizes(), from_strides{m * n, n, 1};
    map_strided<T, T>(kMinElementsPerThread, [](T v) { return v; }, sizes, view_of<T>(out),
                      StridedView<const T>{c_data, &from_strides});
  }
}

}  // namespace

void CpuBackend::bmm(const Tensor& out, const Tensor& a, const Tensor& b) {
  visit_dtype<kernel_dtypes(Op::bmm)>(Op::bmm, a.dtype(), [&]<typename T>(TypeTag<T>) {
    fast_bmm<T>(cpu_allocator_, out, a, b);
  });
}

}  // namespace loom::cpu
