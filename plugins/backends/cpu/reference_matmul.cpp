// Reference bmm: the textbook triple loop over arbitrary strides, float32 products summed in
// double (see matmul.cpp for the BLAS paths).
#include "backend.hpp"
#include "dtype_dispatch.hpp"

namespace loom::cpu {

void CpuReferenceBackend::bmm(const Tensor& out, const Tensor& a, const Tensor& b) {
  visit_dtype<kernel_dtypes(Op::bmm)>(Op::bmm, a.dtype(), [&]<typename T>(TypeTag<T>) {
    // out: (B, M, N), a: (B, M, K), b: (B, K, N)
    const std::int64_t batch = out.size(0), m = out.size(1), n = out.size(2), k = a.size(2);
    const Shape &as = a.strides(), &bs = b.strides(), &os = out.strides();
    const T* a_data = static_cast<const T*>(a.raw_data());
    const T* b_data = static_cast<const T*>(b.raw_data());
    T* out_data = static_cast<T*>(out.raw_data());
    for (std::int64_t bi = 0; bi < batch; ++bi)
      for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < n; ++j) {
          double acc = 0;
          for (std::int64_t p = 0; p < k; ++p)
            acc += static_cast<double>(a_data[bi * as[0] + i * as[1] + p * as[2]]) *
                   static_cast<double>(b_data[bi * bs[0] + p * bs[1] + j * bs[2]]);
          out_data[bi * os[0] + i * os[1] + j * os[2]] = static_cast<T>(acc);
        }
  });
}

}  // namespace loom::cpu
