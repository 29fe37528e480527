// LOOM_PROFILE: the per-op timing table (global state, defined once in libloom).
#include "loom/profile.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>

namespace loom {

namespace {

struct Table {
  std::mutex mutex;
  std::map<std::string, ProfileRow, std::less<>> rows;
};
Table& table() {
  static Table* t = new Table;  // never destroyed: the exit report reads it
  return *t;
}

void print_at_exit() {
  if (!table().rows.empty()) std::fprintf(stderr, "%s", profile_table().c_str());
}

std::atomic<int> enabled{-1};  // -1: not read yet

bool read_environment() {
  const char* env = std::getenv("LOOM_PROFILE");
  const bool on = env && *env && std::string_view(env) != "0";
  if (on) std::atexit(print_at_exit);
  return on;
}

}  // namespace

bool profiling_enabled() {
  int e = enabled.load(std::memory_order_relaxed);
  if (e < 0) {
    static const bool from_env = read_environment();
    e = from_env ? 1 : 0;
    int expected = -1;
    enabled.compare_exchange_strong(expected, e);
    e = enabled.load();
  }
  return e == 1;
}

void set_profiling(bool on) {
  profiling_enabled();  // read the environment first, so it cannot override this later
  enabled.store(on ? 1 : 0);
}

namespace detail {
std::int64_t profile_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
void profile_add(std::string_view name, std::int64_t ns) {
  Table& t = table();
  std::lock_guard lock(t.mutex);
  auto it = t.rows.find(name);
  if (it == t.rows.end()) it = t.rows.emplace(std::string(name), ProfileRow{std::string(name), 0, 0}).first;
  ++it->second.calls;
  it->second.total_ms += static_cast<double>(ns) * 1e-6;
}
}  // namespace detail

std::vector<ProfileRow> profile_rows() {
  Table& t = table();
  std::lock_guard lock(t.mutex);
  std::vector<ProfileRow> rows;
  for (const auto& [name, row] : t.rows) rows.push_back(row);
  std::sort(rows.begin(), rows.end(), [](const ProfileRow& a, const ProfileRow& b) { return a.total_ms > b.total_ms; });
  return rows;
}

std::string profile_table() {
  const auto rows = profile_rows();
  double total = 0;
  for (const auto& r : rows) total += r.total_ms;
  std::string s = fmt::format("LOOM_PROFILE: per op (nested ops are counted in their callers too)\n"
                              "{:<32} {:>10} {:>12} {:>12} {:>7}\n", "op", "calls", "total ms", "mean us", "share");
  for (const auto& r : rows)
    s += fmt::format("{:<32} {:>10} {:>12.3f} {:>12.3f} {:>6.1f}%\n", r.name, r.calls, r.total_ms,
                     r.total_ms * 1000 / static_cast<double>(r.calls), total > 0 ? 100 * r.total_ms / total : 0.0);
  return s;
}

void reset_profile() {
  Table& t = table();
  std::lock_guard lock(t.mutex);
  t.rows.clear();
}

}  // namespace loom
