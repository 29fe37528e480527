// set_num_threads before any backend is loaded (issue 15, defect 4): the count used to be dropped,
// because only backends already started received it, so every experiment's --threads did nothing
// and its config.json recorded LOOM_NUM_THREADS instead. This binary's one test runs first in its
// process, with LOOM_NUM_THREADS=2 set by ctest.
#include <doctest/doctest.h>

#include "loom/runtime.hpp"
#include "loom/tensor_ops.hpp"

TEST_CASE("set_num_threads called before any backend is loaded applies, and overrides LOOM_NUM_THREADS") {
  loom::set_num_threads(1);
  CHECK(loom::num_threads() == 1);
  loom::Tensor x = loom::ones({4});  // the CPU backend is in use now, and keeps the count
  CHECK(loom::sum(x).item<double>() == 4.0);
  CHECK(loom::num_threads() == 1);
  loom::set_num_threads(2);
  CHECK(loom::num_threads() == 2);
}
