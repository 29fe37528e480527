// Run with LOOM_PLUGIN_PATH=<first>:<second>, where the test puts a truncated copy of the good
// test plugin in <first> and a whole one in <second>, before anything loads plugins: the
// truncated copy is refused and the whole one loads (a refused file shadows nothing).
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "loom/backend.hpp"
#include "loom/plugin.hpp"

namespace fs = std::filesystem;
using loom::PluginStatus;

namespace {

const loom::PluginRecord* record_at(const std::vector<loom::PluginRecord>& records, const fs::path& path) {
  for (const auto& r : records)
    if (fs::path(r.path) == path) return &r;
  return nullptr;
}

}  // namespace

TEST_CASE("a truncated plugin file is refused and does not shadow a good one of the same name") {
  const fs::path good = fs::path(LOOM_TEST_GOOD_PLUGIN_DIR) / "libloom-backend-testgood.so";
  const fs::path first = fs::path(LOOM_TEST_REFUSED_SHADOW_DIR) / "first" / good.filename();
  const fs::path second = fs::path(LOOM_TEST_REFUSED_SHADOW_DIR) / "second" / good.filename();
  fs::create_directories(first.parent_path());
  fs::create_directories(second.parent_path());
  fs::copy_file(good, second, fs::copy_options::overwrite_existing);
  {
    std::ifstream in(good, std::ios::binary);
    std::vector<char> head(4096);
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    std::ofstream(first, std::ios::binary | std::ios::trunc).write(head.data(), in.gcount());
  }

  loom::load_plugins();
  const auto records = loom::plugin_records();
  const auto* cut = record_at(records, first);
  const auto* whole = record_at(records, second);
  REQUIRE(cut != nullptr);
  REQUIRE(whole != nullptr);
  CHECK(cut->status == PluginStatus::Refused);
  CHECK_MESSAGE(cut->reason.find("not a readable shared library") != std::string::npos, cut->reason);
  CHECK_MESSAGE(whole->status == PluginStatus::Loaded, whole->reason);
  CHECK(loom::backend_named("test-good").name() == "test-good");
}
