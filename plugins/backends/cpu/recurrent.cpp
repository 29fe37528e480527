// Fast recurrent-cell kernels (reference kernels: reference_recurrent.cpp): the rows split over
// the OpenMP pool, each row's units in one pass in the tensor's own precision. Operands whose
// rows are not unit-stride (never the case in the recurrent layers, which pass dense rows) go to
// the reference kernel.
#include <cmath>

#include "backend.hpp"
#include "dtype_dispatch.hpp"
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

template <typename T>
T logistic(T x) {
  return T(1) / (T(1) + std::exp(-x));
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
      for (std::int64_t n = first; n < last; ++n) {
        const T *gi_n = GI[n], *gh_n = GH[n], *cp = CP[n];
        T *a = A[n], *hn = H[n], *cn = C[n];
        for (std::int64_t j = 0; j < hidden; ++j) {
          const T i = logistic(gi_n[j] + gh_n[j]);
          const T f = logistic(gi_n[hidden + j] + gh_n[hidden + j]);
          const T g = std::tanh(gi_n[2 * hidden + j] + gh_n[2 * hidden + j]);
          const T o = logistic(gi_n[3 * hidden + j] + gh_n[3 * hidden + j]);
          const T cv = f * cp[j] + i * g;
          cn[j] = cv;
          hn[j] = o * std::tanh(cv);
          a[j] = i;
          a[hidden + j] = f;
          a[2 * hidden + j] = g;
          a[3 * hidden + j] = o;
        }
      }
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
      for (std::int64_t n = first; n < last; ++n) {
        const T *a = A[n], *dhn = DH[n], *dcn = DC[n], *cn = C[n], *cp = CP[n];
        T *dg = DG[n], *dcp = DCP[n];
        for (std::int64_t j = 0; j < hidden; ++j) {
          const T i = a[j], f = a[hidden + j], g = a[2 * hidden + j], o = a[3 * hidden + j];
          const T tc = std::tanh(cn[j]);
          const T dct = dcn[j] + dhn[j] * o * (T(1) - tc * tc);
          dg[j] = dct * g * i * (T(1) - i);
          dg[hidden + j] = dct * cp[j] * f * (T(1) - f);
          dg[2 * hidden + j] = dct * i * (T(1) - g * g);
          dg[3 * hidden + j] = dhn[j] * tc * o * (T(1) - o);
          dcp[j] = dct * f;
        }
      }
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
      for (std::int64_t n = first; n < last; ++n) {
        const T *gi_n = GI[n], *gh_n = GH[n], *hp = HP[n];
        T *a = A[n], *hn = H[n];
        for (std::int64_t j = 0; j < hidden; ++j) {
          const T r = logistic(gi_n[j] + gh_n[j]);
          const T z = logistic(gi_n[hidden + j] + gh_n[hidden + j]);
          const T nv = std::tanh(gi_n[2 * hidden + j] + r * gh_n[2 * hidden + j]);
          hn[j] = nv + z * (hp[j] - nv);
          a[j] = r;
          a[hidden + j] = z;
          a[2 * hidden + j] = nv;
        }
      }
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
      for (std::int64_t n = first; n < last; ++n) {
        const T *a = A[n], *d = DH[n], *gh_n = GH[n], *hp = HP[n];
        T *dgi_n = DGI[n], *dgh_n = DGH[n], *dhp = DHP[n];
        for (std::int64_t j = 0; j < hidden; ++j) {
          const T r = a[j], z = a[hidden + j], nv = a[2 * hidden + j];
          const T dn = d[j] * (T(1) - z) * (T(1) - nv * nv);
          const T dr = dn * gh_n[2 * hidden + j] * r * (T(1) - r);
          const T dz = d[j] * (hp[j] - nv) * z * (T(1) - z);
          dgi_n[j] = dr;
          dgi_n[hidden + j] = dz;
          dgi_n[2 * hidden + j] = dn;
          dgh_n[j] = dr;
          dgh_n[hidden + j] = dz;
          dgh_n[2 * hidden + j] = dn * r;
          dhp[j] = d[j] * z;
        }
      }
    });
  });
}

}  // namespace loom::cpu
