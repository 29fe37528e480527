#pragma once
// Internal to libloom: the input check that the functional normalisation, pooling and resampling
// functions share, so that their errors read alike.
#include <cstdint>
#include <string_view>

#include "loom/check.hpp"
#include "loom/tensor.hpp"

namespace loom::nn::functional::detail {

// x must be a defined floating tensor of rank ≥ min_rank; `layout` names the expected dims.
inline void check_input(std::string_view op, const Tensor& x, std::int64_t min_rank, const char* layout) {
  LOOM_CHECK(x.defined(), ValueError, "{}: the input tensor is undefined", op);
  LOOM_CHECK(x.is_floating_point(), DTypeError, "{}: expected a floating input, found {}", op, dtype_name(x.dtype()));
  LOOM_CHECK(x.dim() >= min_rank, ShapeError, "{}: expected an input {} of rank ≥ {}, found shape {}", op, layout,
             min_rank, x.sizes().str());
}

}  // namespace loom::nn::functional::detail
