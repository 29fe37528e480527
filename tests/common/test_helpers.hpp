#pragma once
// Helpers shared by every doctest suite: values of a tensor, element-wise closeness, and the
// message of an expected exception.
#include <cmath>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "loom/tensor.hpp"

namespace loom_test {

inline std::vector<double> values(const loom::Tensor& t) { return t.to_vector<double>(); }

// Checks found against expected element by element within atol + rtol·|expected|.
inline void check_close(const std::vector<double>& found, const std::vector<double>& expected,
                        double rtol = 1e-9, double atol = 1e-12) {
  REQUIRE(found.size() == expected.size());
  for (std::size_t i = 0; i < found.size(); ++i) {
    INFO("element " << i << ": found " << found[i] << ", expected " << expected[i]);
    CHECK(std::abs(found[i] - expected[i]) <= atol + rtol * std::abs(expected[i]));
  }
}

// The message of the exception of type E that `f` throws (fails the test if it throws none).
template <typename E, typename F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  FAIL("expected an exception of the requested type, none was thrown");
  return {};
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace loom_test
