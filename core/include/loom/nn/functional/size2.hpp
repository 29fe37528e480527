#pragma once
// Size2: a pair of spatial sizes (H, W), the option type that convolutions and pooling share.
#include <array>
#include <cstdint>

namespace loom::nn::functional {

using Size2 = std::array<std::int64_t, 2>;  // (H, W)

}  // namespace loom::nn::functional
