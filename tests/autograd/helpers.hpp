#pragma once
// Small helpers of the autograd unit tests.
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "common/test_helpers.hpp"
#include "loom/autograd.hpp"

namespace loom_autograd_test {

using loom_test::check_close;
using loom_test::contains;
using loom_test::message_of;
using loom_test::values;

}  // namespace loom_autograd_test
