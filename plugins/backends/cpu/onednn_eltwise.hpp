#pragma once
// float32 exp, tanh and sigmoid through oneDNN's JIT eltwise kernels (AVX-512 on the reference
// machine). glibc's expf and tanhf are scalar: over 1M elements with 2 threads oneDNN takes
// 126 µs for exp (glibc 829), 149 µs for tanh (4982) and 150 µs for sigmoid (963), within
// 3e-7 relative error, except that results below ~1e-38 (exp of x < -87.3) flush to 0.
// oneDNN's exp turns NaN into inf, so a range holding a NaN is not given to it. The other unary
// ops stay on the compiler-vectorised loops.
#include <cstdint>

#include "loom/backend.hpp"

namespace loom::cpu {

constexpr bool has_onednn_eltwise(Op op) { return op == Op::exp || op == Op::tanh || op == Op::sigmoid; }

// y[i] = op(x[i]) for i < n, on the calling thread only (the caller splits the work over the
// pool). Never throws: false means the range is not for oneDNN (a NaN into exp) or oneDNN
// refused it, and the caller computes the range itself.
bool onednn_eltwise(Op op, const float* x, float* y, std::int64_t n) noexcept;

}  // namespace loom::cpu
