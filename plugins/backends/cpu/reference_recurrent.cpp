// Reference recurrent-cell kernels: one row and one unit at a time over arbitrary strides, in
// double (recurrent.cpp has the fast ones). Formulas in loom/ops.def.
#include <cmath>

#include "backend.hpp"
#include "dtype_dispatch.hpp"

namespace loom::cpu {
namespace {

// Element (n, j) of a 2-D tensor of element type T, read as double or written.
template <typename T>
struct Matrix {
  explicit Matrix(const Tensor& t)
      : data(static_cast<T*>(t.raw_data())), row(t.stride(0)), column(t.stride(1)) {}
  double get(std::int64_t n, std::int64_t j) const { return double(data[n * row + j * column]); }
  void set(std::int64_t n, std::int64_t j, double v) const { data[n * row + j * column] = static_cast<T>(v); }
  T* data;
  std::int64_t row, column;
};

double logistic(double x) { return 1 / (1 + std::exp(-x)); }

}  // namespace

void CpuReferenceBackend::lstm_cell(const Tensor& h, const Tensor& c, const Tensor& act, const Tensor& gi,
                                    const Tensor& gh, const Tensor& c_prev) {
  visit_dtype<kernel_dtypes(Op::lstm_cell)>(Op::lstm_cell, c_prev.dtype(), [&]<typename T>(TypeTag<T>) {
    const Matrix<T> H(h), C(c), A(act), GI(gi), GH(gh), CP(c_prev);
    const std::int64_t hidden = c_prev.size(1);
    for (std::int64_t n = 0; n < c_prev.size(0); ++n)
      for (std::int64_t j = 0; j < hidden; ++j) {
        auto pre = [&](int k) { return GI.get(n, k * hidden + j) + GH.get(n, k * hidden + j); };
        const double i = logistic(pre(0)), f = logistic(pre(1)), g = std::tanh(pre(2)), o = logistic(pre(3));
        const double cn = f * CP.get(n, j) + i * g;
        C.set(n, j, cn);
        H.set(n, j, o * std::tanh(cn));
        A.set(n, j, i);
        A.set(n, hidden + j, f);
        A.set(n, 2 * hidden + j, g);
        A.set(n, 3 * hidden + j, o);
      }
  });
}

void CpuReferenceBackend::lstm_cell_backward(const Tensor& dgates, const Tensor& dc_prev, const Tensor& dh,
                                             const Tensor& dc, const Tensor& act, const Tensor& c,
                                             const Tensor& c_prev) {
  visit_dtype<kernel_dtypes(Op::lstm_cell_backward)>(Op::lstm_cell_backward, c_prev.dtype(), [&]<typename T>(TypeTag<T>) {
    const Matrix<T> DG(dgates), DCP(dc_prev), DH(dh), DC(dc), A(act), C(c), CP(c_prev);
    const std::int64_t hidden = c_prev.size(1);
    for (std::int64_t n = 0; n < c_prev.size(0); ++n)
      for (std::int64_t j = 0; j < hidden; ++j) {
        const double i = A.get(n, j), f = A.get(n, hidden + j), g = A.get(n, 2 * hidden + j),
                     o = A.get(n, 3 * hidden + j);
        const double tc = std::tanh(C.get(n, j)), dhv = DH.get(n, j);
        const double dct = DC.get(n, j) + dhv * o * (1 - tc * tc);
        DG.set(n, j, dct * g * i * (1 - i));
        DG.set(n, hidden + j, dct * CP.get(n, j) * f * (1 - f));
        DG.set(n, 2 * hidden + j, dct * i * (1 - g * g));
        DG.set(n, 3 * hidden + j, dhv * tc * o * (1 - o));
        DCP.set(n, j, dct * f);
      }
  });
}

void CpuReferenceBackend::gru_cell(const Tensor& h, const Tensor& act, const Tensor& gi, const Tensor& gh,
                                   const Tensor& h_prev) {
  visit_dtype<kernel_dtypes(Op::gru_cell)>(Op::gru_cell, h_prev.dtype(), [&]<typename T>(TypeTag<T>) {
    const Matrix<T> H(h), A(act), GI(gi), GH(gh), HP(h_prev);
    const std::int64_t hidden = h_prev.size(1);
    for (std::int64_t n = 0; n < h_prev.size(0); ++n)
      for (std::int64_t j = 0; j < hidden; ++j) {
        const double r = logistic(GI.get(n, j) + GH.get(n, j));
        const double z = logistic(GI.get(n, hidden + j) + GH.get(n, hidden + j));
        const double nn = std::tanh(GI.get(n, 2 * hidden + j) + r * GH.get(n, 2 * hidden + j));
        H.set(n, j, (1 - z) * nn + z * HP.get(n, j));
        A.set(n, j, r);
        A.set(n, hidden + j, z);
        A.set(n, 2 * hidden + j, nn);
      }
  });
}

void CpuReferenceBackend::gru_cell_backward(const Tensor& dgi, const Tensor& dgh, const Tensor& dh_prev,
                                            const Tensor& dh, const Tensor& act, const Tensor& gh,
                                            const Tensor& h_prev) {
  visit_dtype<kernel_dtypes(Op::gru_cell_backward)>(Op::gru_cell_backward, h_prev.dtype(), [&]<typename T>(TypeTag<T>) {
    const Matrix<T> DGI(dgi), DGH(dgh), DHP(dh_prev), DH(dh), A(act), GH(gh), HP(h_prev);
    const std::int64_t hidden = h_prev.size(1);
    for (std::int64_t n = 0; n < h_prev.size(0); ++n)
      for (std::int64_t j = 0; j < hidden; ++j) {
        const double r = A.get(n, j), z = A.get(n, hidden + j), nn = A.get(n, 2 * hidden + j);
        const double d = DH.get(n, j);
        const double dn = d * (1 - z) * (1 - nn * nn);
        const double dr = dn * GH.get(n, 2 * hidden + j) * r * (1 - r);
        const double dz = d * (HP.get(n, j) - nn) * z * (1 - z);
        DGI.set(n, j, dr);
        DGI.set(n, hidden + j, dz);
        DGI.set(n, 2 * hidden + j, dn);
        DGH.set(n, j, dr);
        DGH.set(n, hidden + j, dz);
        DGH.set(n, 2 * hidden + j, dn * r);
        DHP.set(n, j, d * z);
      }
  });
}

}  // namespace loom::cpu
