#pragma once
// LOOM_CHECK(cond, ErrorType, "format {}", args...) throws ErrorType with a fmt-formatted
// message when cond is false. For core sources and plugins; kept out of tensor.hpp so that
// experiments do not pay for <fmt/format.h>.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "loom/error.hpp"

#define LOOM_CHECK(cond, ErrorType, ...)                        \
  do {                                                          \
    if (!(cond)) [[unlikely]] throw ErrorType(fmt::format(__VA_ARGS__)); \
  } while (0)

#define LOOM_THROW(ErrorType, ...) throw ErrorType(fmt::format(__VA_ARGS__))
