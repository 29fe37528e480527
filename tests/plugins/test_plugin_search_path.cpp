// Run with LOOM_PLUGIN_PATH=<first>:<second>:<missing>, where first and second hold copies of
// the same plugin file: the first copy loads, the second shows as shadowed.
#include <algorithm>

#include <doctest/doctest.h>

#include "loom/backend.hpp"
#include "loom/plugin.hpp"

using loom::PluginStatus;

namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
const loom::PluginRecord* record_ending(const std::vector<loom::PluginRecord>& records,
                                        const std::string& suffix) {
  for (const auto& r : records)
    if (ends_with(r.path, suffix)) return &r;
  return nullptr;
}
}  // namespace

TEST_SUITE("plugin search path") {

TEST_CASE("LOOM_PLUGIN_PATH folders come first, in order, and missing ones are marked") {
  const auto folders = loom::plugin_search_path();
  REQUIRE(folders.size() >= 3);
  CHECK(ends_with(folders[0].path, "shadow/first"));
  CHECK(ends_with(folders[1].path, "shadow/second"));
  CHECK(ends_with(folders[2].path, "shadow/missing"));
  for (int i = 0; i < 3; ++i) CHECK(folders[std::size_t(i)].origin.find("LOOM_PLUGIN_PATH") != std::string::npos);
  CHECK(folders[0].exists);
  CHECK(folders[1].exists);
  CHECK_FALSE(folders[2].exists);
}

TEST_CASE("the second copy of a plugin file is shadowed by the first") {
  loom::load_plugins();
  const auto records = loom::plugin_records();
  const auto* first = record_ending(records, "shadow/first/libloom-backend-testgood.so");
  const auto* second = record_ending(records, "shadow/second/libloom-backend-testgood.so");
  REQUIRE(first != nullptr);
  REQUIRE(second != nullptr);
  CHECK(first->status == PluginStatus::Loaded);
  CHECK(second->status == PluginStatus::Shadowed);
  CHECK_MESSAGE(second->reason.find("shadow/first") != std::string::npos, second->reason);
  CHECK(loom::backend_named("test-good").name() == "test-good");
  CHECK(std::string(loom::plugin_status_name(second->status)) == "shadowed");
}

TEST_CASE("the default folders are still searched after LOOM_PLUGIN_PATH") {
  loom::load_plugins();
  const auto records = loom::plugin_records();
  const auto* cpu = record_ending(records, "/libloom-backend-cpu.so");
  REQUIRE(cpu != nullptr);
  CHECK(cpu->status == PluginStatus::Loaded);
}

}  // TEST_SUITE
