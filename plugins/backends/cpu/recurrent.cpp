// Fast recurrent-cell kernels (reference kernels: reference_recurrent.cpp): the rows split over
// the OpenMP pool, each row's units in one vectorised pass in the tensor's own precision; float32
// through fast_math.hpp's exp/tanh (glibc's are a call per element: five per LSTM unit and step)
// in row functions compiled for AVX-512, AVX2 and baseline x86-64. Operands whose rows are not
// unit-stride (never the case in the recurrent layers, which pass dense rows) go to the
// reference kernel.
#include <cmath>

#include "backend.hpp"
#include "dtype_dispatch.hpp"
#include "fast_math.hpp"
#include "strided_iteration.hpp"

namespace loom::cpu {
namespace {

// Row n of a 2-D tensor whose rows are unit-stride.
template <typename T>
struct Rows {
  explicit Rows(const Tensor& t) : data(static_cast<T*>(t.raw_data())), stride(t.stride(0)) {}
  T* operator[](std::int64_t n) const { return data + n * stride; }
  T* data;
  std::int64_t stride;
};

bool unit_rows(std::initializer_list<const Tensor*> tensors) {
  for (const Tensor* t : tensors)
    if (t->size(1) > 1 && t->stride(1) != 1) return false;
  return true;
}

// The activations per precision: the library's for float64, fast_math.hpp's for float32.
template <typename T>
struct Activations {
  static T logistic(T x) { return T(1) / (T(1) + std::exp(-x)); }
  static T tanh(T x) { return std::tanh(x); }
};
template <>
struct Activations<float> {
  LOOM_FAST_MATH static float logistic(float x) { return fast_logistic(x); }
  LOOM_FAST_MATH static float tanh(float x) { return fast_tanh(x); }
};


// One row of each cell, forward and backward: gate blocks of `hidden` units (LSTM i, f, g, o;
// GRU r, z, n), as loom/ops.def documents the primitives.
template <typename T>
LOOM_FAST_MATH void lstm_row(const T* gi, const T* gh, const T* cp, T* a, T* hn, T* cn, std::int64_t hidden) {
  using A = Activations<T>;
#pragma omp simd
  for (std::int64_t j = 0; j < hidden; ++j) {
    const T i = A::logistic(gi[j] + gh[j]);
    const T f = A::logistic(gi[hidden + j] + gh[hidden + j]);
    const T g = A::tanh(gi[2 * hidden + j] + gh[2 * hidden + j]);
    const T o = A::logistic(gi[3 * hidden + j] + gh[3 * hidden + j]);
    const T cv = f * cp[j] + i * g;
    cn[j] = cv;
    hn[j] = o * A::tanh(cv);
    a[j] = i;
    a[hidden + j] = f;
    a[2 * hidden + j] = g;
    a[3 * hidden + j] = o;
  }
}

template <typename T>
LOOM_FAST_MATH void lstm_backward_row(const T* a, const T* dhn, const T* dcn, const T* cn, const T* cp, T* dg, T* dcp,
                                std::int64_t hidden) {
#pragma omp simd
  for (std::int64_t j = 0; j < hidden; ++j) {
    const T i = a[j], f = a[hidden + j], g = a[2 * hidden + j], o = a[3 * hidden + j];
    const T tc = Activations<T>::tanh(cn[j]);
    const T dct = dcn[j] + dhn[j] * o * (T(1) - tc * tc);
    dg[j] = dct * g * i * (T(1) - i);
    dg[hidden + j] = dct * cp[j] * f * (T(1) - f);
    dg[2 * hidden + j] = dct * i * (T(1) - g * g);
    dg[3 * hidden + j] = dhn[j] * tc * o * (T(1) - o);
    dcp[j] = dct * f;
  }
}

template <typename T>
LOOM_FAST_MATH void gru_row(const T* gi, const T* gh, const T* hp, T* a, T* hn, std::int64_t hidden) {
  using A = Activations<T>;
#pragma omp simd
  for (std::int64_t j = 0; j < hidden; ++j) {
    const T r = A::logistic(gi[j] + gh[j]);
    const T z = A::logistic(gi[hidden + j] + gh[hidden + j]);
    const T nv = A::tanh(gi[2 * hidden + j] + r * gh[2 * hidden + j]);
    hn[j] = nv + z * (hp[j] - nv);
    a[j] = r;
    a[hidden + j] = z;
    a[2 * hidden + j] = nv;
  }
}

template <typename T>
LOOM_FAST_MATH void gru_backward_row(const T* a, const T* d, const T* gh, const T* hp, T* dgi, T* dgh, T* dhp,
                               std::int64_t hidden) {
#pragma omp simd
  for (std::int64_t j = 0; j < hidden; ++j) {
    const T r = a[j], z = a[hidden + j], nv = a[2 * hidden + j];
    const T dn = d[j] * (T(1) - z) * (T(1) - nv * nv);
    const T dr = dn * gh[2 * hidden + j] * r * (T(1) - r);
    const T dz = d[j] * (hp[j] - nv) * z * (T(1) - z);
    dgi[j] = dr;
    dgi[hidden + j] = dz;
    dgi[2 * hidden + j] = dn;
    dgh[j] = dr;
    dgh[hidden + j] = dz;
    dgh[2 * hidden + j] = dn * r;
    dhp[j] = d[j] * z;
  }
}

// The float32 rows, compiled per instruction set (overloads: a float row call picks these).
LOOM_CPU_CLONES void lstm_row(const float* gi, const float* gh, const float* cp, float* a, float* hn, float* cn,
                              std::int64_t hidden) {
  lstm_row<float>(gi, gh, cp, a, hn, cn, hidden);
}
LOOM_CPU_CLONES void lstm_backward_row(const float* a, const float* dhn, const float* dcn, const float* cn,
                                       const float* cp, float* dg, float* dcp, std::int64_t hidden) {
  lstm_backward_row<float>(a, dhn, dcn, cn, cp, dg, dcp, hidden);
}
LOOM_CPU_CLONES void gru_row(const float* gi, const float* gh, const float* hp, float* a, float* hn,
                             std::int64_t hidden) {
  gru_row<float>(gi, gh, hp, a, hn, hidden);
}
LOOM_CPU_CLONES void gru_backward_row(const float* a, const float* d, const float* gh, const float* hp, float* dgi,
                                      float* dgh, float* dhp, std::int64_t hidden) {
  gru_backward_row<float>(a, d, gh, hp, dgi, dgh, dhp, hidden);
}

// Rows per thread: each row costs G·H transcendental calls.
std::int64_t row_grain(std::int64_t row_work) {
  return std::max<std::int64_t>(1, kMinCostlyElementsPerThread / std::max<std::int64_t>(1, row_work));
}

}  // namespace

void CpuBackend::lstm_cell(const Tensor& h, const Tensor& c, const Tensor& act, const Tensor& gi, const Tensor& gh,
                           const Tensor& c_prev) {
  if (!unit_rows({&h, &c, &act, &gi, &gh, &c_prev})) return CpuReferenceBackend::lstm_cell(h, c, act, gi, gh, c_prev);
  visit_dtype<kernel_dtypes(Op::lstm_cell)>(Op::lstm_cell, c_prev.dtype(), [&]<typename T>(TypeTag<T>) {
    const Rows<T> H(h), C(c), A(act), GI(gi), GH(gh), CP(c_prev);
    const std::int64_t hidden = c_prev.size(1);
    parallel_for(c_prev.size(0), row_grain(4 * hidden), [&](std::int64_t first, std::int64_t last) {
      for (std::int64_t n = first; n < last; ++n)
        lstm_row(GI[n], GH[n], CP[n], A[n], H[n], C[n], hidden);
    });
  });
}

void CpuBackend::lstm_cell_backward(const Tensor& dgates, const Tensor& dc_prev, const Tensor& dh, const Tensor& dc,
                                    const Tensor& act, const Tensor& c, const Tensor& c_prev) {
  if (!unit_rows({&dgates, &dc_prev, &dh, &dc, &act, &c, &c_prev}))
    return CpuReferenceBackend::lstm_cell_backward(dgates, dc_prev, dh, dc, act, c, c_prev);
  visit_dtype<kernel_dtypes(Op::lstm_cell_backward)>(Op::lstm_cell_backward, c_prev.dtype(), [&]<typename T>(TypeTag<T>) {
    const Rows<T> DG(dgates), DCP(dc_prev), DH(dh), DC(dc), A(act), C(c), CP(c_prev);
    const std::int64_t hidden = c_prev.size(1);
    parallel_for(c_prev.size(0), row_grain(hidden), [&](std::int64_t first, std::int64_t last) {
      for (std::int64_t n = first; n < last; ++n)
        lstm_backward_row(A[n], DH[n], DC[n], C[n], CP[n], DG[n], DCP[n], hidden);
    });
  });
}

void CpuBackend::gru_cell(const Tensor& h, const Tensor& act, const Tensor& gi, const Tensor& gh,
                          const Tensor& h_prev) {
  if (!unit_rows({&h, &act, &gi, &gh, &h_prev})) return CpuReferenceBackend::gru_cell(h, act, gi, gh, h_prev);
  visit_dtype<kernel_dtypes(Op::gru_cell)>(Op::gru_cell, h_prev.dtype(), [&]<typename T>(TypeTag<T>) {
    const Rows<T> H(h), A(act), GI(gi), GH(gh), HP(h_prev);
    const std::int64_t hidden = h_prev.size(1);
    parallel_for(h_prev.size(0), row_grain(3 * hidden), [&](std::int64_t first, std::int64_t last) {
      for (std::int64_t n = first; n < last; ++n)
        gru_row(GI[n], GH[n], HP[n], A[n], H[n], hidden);
    });
  });
}

void CpuBackend::gru_cell_backward(const Tensor& dgi, const Tensor& dgh, const Tensor& dh_prev, const Tensor& dh,
                                   const Tensor& act, const Tensor& gh, const Tensor& h_prev) {
  if (!unit_rows({&dgi, &dgh, &dh_prev, &dh, &act, &gh, &h_prev}))
    return CpuReferenceBackend::gru_cell_backward(dgi, dgh, dh_prev, dh, act, gh, h_prev);
  visit_dtype<kernel_dtypes(Op::gru_cell_backward)>(Op::gru_cell_backward, h_prev.dtype(), [&]<typename T>(TypeTag<T>) {
    const Rows<T> DGI(dgi), DGH(dgh), DHP(dh_prev), DH(dh), A(act), GH(gh), HP(h_prev);
    const std::int64_t hidden = h_prev.size(1);
    parallel_for(h_prev.size(0), row_grain(hidden), [&](std::int64_t first, std::int64_t last) {
      for (std::int64_t n = first; n < last; ++n)
        gru_backward_row(A[n], DH[n], GH[n], HP[n], DGI[n], DGH[n], DHP[n], hidden);
    });
  });
}

}  // namespace loom::cpu
