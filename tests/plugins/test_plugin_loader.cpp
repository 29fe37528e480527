// The plugin loader: good plugins load, each kind of broken plugin is refused with one clear
// message, nothing of a refused plugin stays registered, and the rest keeps working.
#include <dlfcn.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "loom/backend.hpp"
#include "loom/nn/registry.hpp"
#include "loom/plugin.hpp"
#include "loom/runtime.hpp"
#include "loom/tensor.hpp"

using doctest::Contains;
using loom::PluginStatus;
namespace fs = std::filesystem;

namespace {

std::string broken(const char* name) {
  return std::string(LOOM_TEST_BROKEN_PLUGIN_DIR) + "/libloom-backend-" + name + ".so";
}
const std::string kGoodPlugin = std::string(LOOM_TEST_GOOD_PLUGIN_DIR) + "/libloom-backend-testgood.so";

// Each file is loaded once per process; later test cases reuse its record.
const loom::PluginRecord& load_once(const std::string& path) {
  static std::map<std::string, loom::PluginRecord> records;
  loom::load_plugins();  // the CPU plugin first, as in a real program
  auto it = records.find(path);
  if (it == records.end()) it = records.emplace(path, loom::load_plugin_file(path)).first;
  return it->second;
}

bool registered(const std::string& name) {
  const auto names = loom::backend_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void check_refused(const loom::PluginRecord& r, const std::string& path) {
  INFO("reason: " << r.reason);
  CHECK(r.status == PluginStatus::Refused);
  CHECK(r.path == path);
  CHECK_FALSE(r.reason.empty());
}

}  // namespace

TEST_SUITE("plugin loader") {

TEST_CASE("the CPU plugin loads from the build tree and provides cpu and cpu-reference") {
  loom::load_plugins();
  const auto records = loom::plugin_records();
  auto it = std::find_if(records.begin(), records.end(),
                         [](const auto& r) { return ends_with(r.path, "/libloom-backend-cpu.so"); });
  REQUIRE(it != records.end());
  CHECK(it->status == PluginStatus::Loaded);
  CHECK(it->kind == "backend");
  CHECK(std::count(it->provides.begin(), it->provides.end(), "cpu") == 1);
  CHECK(std::count(it->provides.begin(), it->provides.end(), "cpu-reference") == 1);
  CHECK(registered("cpu"));
  CHECK(registered("cpu-reference"));
}

TEST_CASE("a plugin built for another API version is refused, naming both versions") {
  const auto& r = load_once(broken("wrongapi"));
  check_refused(r, broken("wrongapi"));
  CHECK_MESSAGE(r.reason.find("000000000000") != std::string::npos, r.reason);
  CHECK_MESSAGE(r.reason.find(loom::api_version()) != std::string::npos, r.reason);
  CHECK_FALSE(registered("test-old-api"));
}

TEST_CASE("a library without a plugin entry is refused, naming the entry it looked for") {
  const auto& r = load_once(broken("noentry"));
  check_refused(r, broken("noentry"));
  CHECK_MESSAGE(r.reason.find(LOOM_PLUGIN_ENTRY_PREFIX) != std::string::npos, r.reason);
}

TEST_CASE("a plugin with an undefined symbol is refused at load, naming the symbol") {
  const auto& r = load_once(broken("undefined"));
  check_refused(r, broken("undefined"));
  CHECK_MESSAGE(r.reason.find("loom_test_symbol_defined_nowhere") != std::string::npos, r.reason);
  CHECK_FALSE(registered("test-undefined"));
}

TEST_CASE("a plugin whose register_all throws is refused and leaves nothing registered") {
  const auto& r = load_once(broken("boom"));
  check_refused(r, broken("boom"));
  CHECK_MESSAGE(r.reason.find("boom") != std::string::npos, r.reason);
  CHECK_FALSE(registered("test-boom"));
  CHECK_THROWS_AS(loom::backend_named("test-boom"), loom::Error);
}

TEST_CASE("a second file registering cpu is refused, naming the name and the first file") {
  const auto& r = load_once(broken("dupcpu"));
  check_refused(r, broken("dupcpu"));
  const bool names_cpu = r.reason.find("\"cpu\"") != std::string::npos ||
                         r.reason.find("'cpu'") != std::string::npos || r.reason.find(" cpu ") != std::string::npos;
  CHECK_MESSAGE(names_cpu, r.reason);
  CHECK_MESSAGE(r.reason.find("libloom-backend-cpu.so") != std::string::npos, r.reason);
  // "cpu" is still the real CPU backend (the test backend supports fill only).
  CHECK(loom::backend_named("cpu").supports(loom::Op::add, loom::DType::Float32));
}

TEST_CASE("a plugin registering a name it did not declare is refused, with none of its names") {
  const auto& r = load_once(broken("undeclared"));
  check_refused(r, broken("undeclared"));
  CHECK_MESSAGE(r.reason.find("test-undeclared") != std::string::npos, r.reason);
  CHECK_FALSE(registered("test-undeclared"));
  CHECK_FALSE(registered("test-declared"));
}

TEST_CASE("a good test plugin loads with its descriptor and its backend works") {
  const auto& r = load_once(kGoodPlugin);
  INFO("reason: " << r.reason);
  REQUIRE(r.status == PluginStatus::Loaded);
  CHECK(r.reason.empty());
  CHECK(r.name == "test-good");
  CHECK(r.kind == "backend");
  CHECK(r.version == "1.2.3");
  CHECK(r.provides == std::vector<std::string>{"test-good", "test-good-double"});
  loom::Backend& backend = loom::backend_named("test-good");
  CHECK(backend.name() == "test-good");
  CHECK(backend.supports(loom::Op::fill, loom::DType::Float32));
  CHECK_FALSE(backend.supports(loom::Op::add, loom::DType::Float32));
  auto out = loom::zeros({2, 3});
  backend.fill(out.t(), 4.5);
  CHECK(out.to_vector<double>() == std::vector<double>(6, 4.5));
}

TEST_CASE("a layer type registered by a plugin is built by name like a core layer") {
  REQUIRE(load_once(kGoodPlugin).status == PluginStatus::Loaded);
  CHECK(loom::nn::has_module_type("test-good-double"));
  auto layer = loom::nn::build(nlohmann::json{{"type", "test-good-double"}});
  auto y = layer->forward(loom::full({3}, 1.5));
  CHECK(y.to_vector<double>() == std::vector<double>(3, 3.0));
  // The plugin's factory reads its config like a core layer: unknown options are errors.
  CHECK_THROWS_WITH_AS(loom::nn::build(nlohmann::json{{"type", "test-good-double"}, {"scale", 3}}),
                       Contains("unknown option 'scale'"), loom::ValueError);
}

TEST_CASE("a plugin registering a layer type the core already has is refused, naming the type") {
  const auto& r = load_once(broken("duplayer"));
  check_refused(r, broken("duplayer"));
  CHECK_MESSAGE(r.reason.find("'linear' is already registered") != std::string::npos, r.reason);
  // "linear" is still the core's layer.
  auto layer = loom::nn::build(nlohmann::json{{"type", "linear"}, {"in_features", 2}, {"out_features", 3}});
  CHECK(layer->parameters().size() == 2);
}

TEST_CASE("an error thrown inside a plugin is caught by its type") {
  REQUIRE(load_once(kGoodPlugin).status == PluginStatus::Loaded);
  void* handle = dlopen(kGoodPlugin.c_str(), RTLD_NOW | RTLD_NOLOAD);
  REQUIRE_MESSAGE(handle != nullptr, "the loaded plugin is not in the process: " << dlerror());
  auto* thrower = reinterpret_cast<void (*)()>(dlsym(handle, "loom_test_throw_shape_error"));
  REQUIRE(static_cast<bool>(thrower));
  CHECK_THROWS_AS(thrower(), loom::ShapeError);
  CHECK_THROWS_WITH_AS(thrower(), Contains("(2, 3)"), loom::ShapeError);
  // Through a virtual call into the plugin's backend, too.
  auto out = loom::zeros({2});
  CHECK_THROWS_AS(loom::backend_named("test-good").exp(out, out), loom::DTypeError);
}

TEST_CASE("plugin_records lists refused files with their reasons") {
  const char* names[] = {"wrongapi", "noentry", "undefined", "boom", "dupcpu", "undeclared"};
  for (const char* n : names) load_once(broken(n));
  const auto records = loom::plugin_records();
  for (const char* n : names) {
    INFO(std::string(n));
    auto it = std::find_if(records.begin(), records.end(), [&](const auto& r) { return r.path == broken(n); });
    REQUIRE(it != records.end());
    CHECK(it->status == PluginStatus::Refused);
    CHECK_FALSE(it->reason.empty());
  }
}

TEST_CASE("load_plugin_file of a missing file is refused, not thrown") {
  loom::PluginRecord r;
  CHECK_NOTHROW(r = loom::load_plugin_file(broken("does-not-exist")));
  CHECK(r.status == PluginStatus::Refused);
  CHECK_FALSE(r.reason.empty());
}

TEST_CASE("bad plugin files: each row is refused with its phrase, and nothing of it stays registered") {
  const fs::path dir = fs::temp_directory_path() / ("loom_bad_plugins_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string text = (dir / "libloom-backend-text.so").string();
  std::ofstream(text) << "not a shared library\n";
  const std::string cut = (dir / "libloom-backend-testgood.so").string();
  {
    std::ifstream in(kGoodPlugin, std::ios::binary);
    std::vector<char> head(4096);
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    std::ofstream(cut, std::ios::binary).write(head.data(), in.gcount());
  }
  struct Row {
    const char* name;
    std::string path;
    const char* phrase;
  };
  const std::vector<Row> rows = {
      {"another API version", broken("wrongapi"), "built for plugin API version"},
      {"no entry", broken("noentry"), "no entry symbol"},
      {"an undefined symbol", broken("undefined"), "loom_test_symbol_defined_nowhere"},
      {"register_all throws", broken("boom"), "boom"},
      {"registers cpu again", broken("dupcpu"), "libloom-backend-cpu.so"},
      {"registers an undeclared name", broken("undeclared"), "test-undeclared"},
      {"registers a core layer type", broken("duplayer"), "'linear' is already registered"},
      {"a missing file", broken("does-not-exist"), "not a readable shared library"},
      {"a text file", text, "not a readable shared library"},
      {"a truncated copy of a good plugin", cut, "not a readable shared library"},
  };
  for (const Row& row : rows) {
    const std::string name = row.name;
    CAPTURE(name);
    const loom::PluginRecord& r = load_once(row.path);
    INFO("reason: " << r.reason);
    CHECK(r.status == PluginStatus::Refused);
    CHECK(r.reason.find(row.phrase) != std::string::npos);
  }
  fs::remove_all(dir);
}

TEST_CASE("after the refusals the CPU backend still works") {
  for (const char* n : {"wrongapi", "noentry", "undefined", "boom", "dupcpu", "undeclared"}) load_once(broken(n));
  CHECK(loom::backend_for(loom::kCPU).name() == "cpu");
  CHECK(loom::ones({3}).sum().item<double>() == 3.0);
  CHECK(loom::plugin_kind_name(loom::PluginKind::Backend) == std::string("backend"));
  CHECK(loom::plugin_status_name(PluginStatus::Shadowed) == std::string("shadowed"));
}

}  // TEST_SUITE
