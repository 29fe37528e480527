#pragma once
// LOOM_PROFILE=1: a per-op table (calls, total and mean time) printed to stderr at exit — the
// tool for finding where a step's time goes. Forward ops are timed at the public API (dispatch,
// kernel and autograd recording together), backward nodes as "backward <name>". The table counts
// every call since start-up, including the first call of each shape, which builds its oneDNN
// primitive (milliseconds): profile enough steps, or call reset_profile() after a warm-up, before
// reading means as steady-state costs.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "loom/export.hpp"

namespace loom {

// Whether LOOM_PROFILE is set to something other than 0 (read once), or switched on here.
LOOM_API bool profiling_enabled();
LOOM_API void set_profiling(bool enabled);

struct ProfileRow {
  std::string name;
  std::uint64_t calls = 0;
  double total_ms = 0;
};
LOOM_API std::vector<ProfileRow> profile_rows();  // sorted by total time, largest first
LOOM_API std::string profile_table();
LOOM_API void reset_profile();

namespace detail {
LOOM_API void profile_add(std::string_view name, std::int64_t nanoseconds);
LOOM_API std::int64_t profile_clock_ns();
}  // namespace detail

// Times its scope when profiling is on; costs one branch when it is off.
class ProfileScope {
 public:
  explicit ProfileScope(std::string_view name)
      : name_(name), start_(profiling_enabled() ? detail::profile_clock_ns() : -1) {}
  ~ProfileScope() {
    if (start_ >= 0) detail::profile_add(name_, detail::profile_clock_ns() - start_);
  }
  ProfileScope(const ProfileScope&) = delete;
  ProfileScope& operator=(const ProfileScope&) = delete;

 private:
  std::string_view name_;
  std::int64_t start_;
};

}  // namespace loom
