#pragma once
// Call counts from LOOM_PROFILE's table, for tests that check which ops or nodes ran (a fused
// kernel taken, no whole-tensor gradient built) without timing anything.
#include <cstdint>
#include <string_view>

#include "loom/profile.hpp"

namespace loom_test {

// Calls of `name` ("attention", "backward select", ...) since the last reset_profile().
inline std::uint64_t profile_calls(std::string_view name) {
  for (const loom::ProfileRow& row : loom::profile_rows())
    if (row.name == name) return row.calls;
  return 0;
}

// Profiling on for a scope, with the table emptied at its start.
class ProfilingScope {
 public:
  ProfilingScope() : was_(loom::profiling_enabled()) {
    loom::set_profiling(true);
    loom::reset_profile();
  }
  ~ProfilingScope() { loom::set_profiling(was_); }
  ProfilingScope(const ProfilingScope&) = delete;
  ProfilingScope& operator=(const ProfilingScope&) = delete;

 private:
  bool was_;
};

}  // namespace loom_test
