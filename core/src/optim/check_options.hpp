#pragma once
// Shared checks of optimizer options: each throws ValueError naming the optimizer, the option
// and the value found.
#include <cmath>
#include <string_view>

#include "loom/check.hpp"

namespace loom::optim::detail {

inline void check_non_negative(std::string_view optimizer, std::string_view option, double value) {
  LOOM_CHECK(value >= 0 && !std::isnan(value), ValueError, "{}: option {} must be >= 0, found {}", optimizer, option, value);
}

// For betas and alpha: a decay rate in [0, 1).
inline void check_decay_rate(std::string_view optimizer, std::string_view option, double value) {
  LOOM_CHECK(value >= 0 && value < 1, ValueError, "{}: option {} must be in [0, 1), found {}", optimizer, option, value);
}

}  // namespace loom::optim::detail
