// The module-type registry and ConfigReader.
#include "loom/nn/registry.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "loom/check.hpp"
#include "loom/json.hpp"
#include "loom/plugin.hpp"

namespace loom::nn {

namespace detail {
// builtin_modules.cpp: registers every core layer and loss through add_builtin().
void register_builtin_modules();
}  // namespace detail

namespace {

struct Entry {
  ModuleKind kind;
  ModuleFactory factory;
  std::string origin;
};

struct Registry {
  std::recursive_mutex mutex;
  std::map<std::string, Entry> entries;
};

Registry& storage() {
  static Registry* r = new Registry;  // never destroyed: factories from plugins stay valid
  return *r;
}

void add_entry(const std::string& type, ModuleKind kind, ModuleFactory factory, const std::string& origin) {
  LOOM_CHECK(!type.empty() && factory, ValueError, "register_module_type: expected a type name and a factory");
  Registry& r = storage();
  std::lock_guard lock(r.mutex);
  auto it = r.entries.find(type);
  LOOM_CHECK(it == r.entries.end() || it->second.origin == origin, ValueError,
             "register_module_type: '{}' is already registered by {}", type,
             it == r.entries.end() ? "" : it->second.origin);
  r.entries[type] = Entry{kind, std::move(factory), origin};
}

// The registry with the core's own types in it (registered on first use, not at load time).
Registry& registry() {
  static std::once_flag builtins;
  std::call_once(builtins, [] { detail::register_builtin_modules(); });
  return storage();
}

std::string registered_names(Registry& r) {
  std::string names;
  for (const auto& [name, e] : r.entries) names += (names.empty() ? "" : ", ") + name;
  return names;
}

}  // namespace

namespace detail {
void add_builtin(const std::string& type, ModuleKind kind, ModuleFactory factory) {
  add_entry(type, kind, std::move(factory), "libloom");
}
}  // namespace detail

const char* module_kind_name(ModuleKind kind) {
  switch (kind) {
    case ModuleKind::Layer: return "layer";
    case ModuleKind::Loss: return "loss";
    case ModuleKind::Architecture: return "architecture";
  }
  return "unknown";
}

void register_module_type(const std::string& type, ModuleKind kind, ModuleFactory factory, const std::string& origin) {
  registry();  // builtins first, so that a clash with one is reported
  add_entry(type, kind, std::move(factory), origin);
}

bool has_module_type(const std::string& type) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  return r.entries.count(type) > 0;
}

std::vector<std::string> module_types(ModuleKind kind) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> out;
  for (const auto& [name, e] : r.entries)
    if (e.kind == kind) out.push_back(name);
  return out;
}

std::shared_ptr<Module> build(const nlohmann::json& spec) {
  LOOM_CHECK(spec.is_object() && spec.contains("type") && spec["type"].is_string(), ValueError,
             "nn::build: expected an object with a \"type\" string, found {}", spec.dump());
  const std::string type = spec["type"].get<std::string>();
  // Containers build their children through here. A parsed spec nests at most kMaxJsonDepth JSON
  // levels (two per module level); one made in code is stopped before it overflows the stack.
  thread_local int depth = 0;
  LOOM_CHECK(depth < kMaxJsonDepth, ValueError, "nn::build: expected modules nested at most {} deep, found '{}' deeper",
             kMaxJsonDepth, type);
  struct Nesting {
    Nesting() { ++depth; }
    ~Nesting() { --depth; }
  } nesting;
  Registry& r = registry();
  // Not a core type: maybe a plugin on the search path declares it. Loaded without holding this
  // registry's lock (the loader takes its own lock first, then registers here).
  if (!has_module_type(type)) load_plugins();
  ModuleFactory factory;
  {
    std::lock_guard lock(r.mutex);
    auto it = r.entries.find(type);
    LOOM_CHECK(it != r.entries.end(), ValueError,
               "nn::build: unknown layer type '{}' (registered: {}; no plugin on the search path "
               "registers it — see `loom plugins`)", type, registered_names(r));
    factory = it->second.factory;
  }
  nlohmann::json config = spec;
  config.erase("type");
  try {
    return factory(config);
  } catch (const nlohmann::json::exception& e) {
    LOOM_THROW(ValueError, "nn::build: bad config for '{}': {}", type, e.what());
  }
}

// ---- ConfigReader ----
struct ConfigReader::State {
  std::string type;
  const nlohmann::json& config;
  std::set<std::string> read;
};

ConfigReader::ConfigReader(std::string type, const nlohmann::json& config)
    : state_(std::make_unique<State>(State{std::move(type), config, {}})) {
  LOOM_CHECK(config.is_object(), ValueError, "{}: expected a JSON object of options, found {}", state_->type,
             config.dump());
}
ConfigReader::~ConfigReader() = default;

bool ConfigReader::has(const std::string& key) const { return state_->config.contains(key); }

namespace {
[[noreturn]] void wrong_type(const std::string& type, const std::string& key, const char* expected,
                             const nlohmann::json& found) {
  LOOM_THROW(ValueError, "{}: option '{}' must be {}, found {}", type, key, expected, found.dump());
}

// An integer of the JSON as int64: 2.7, "3" and integers past 2^63 − 1 (which nlohmann keeps as
// unsigned and get<int64_t> would wrap: 2^64 − 1 read as −1) are errors naming the value.
std::int64_t int64_of(const std::string& type, const std::string& key, const char* expected,
                      const nlohmann::json& whole, const nlohmann::json& v) {
  if (!v.is_number_integer() ||
      (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)))
    wrong_type(type, key, expected, whole);
  return v.get<std::int64_t>();
}
}  // namespace

std::int64_t ConfigReader::integer(const std::string& key) {
  LOOM_CHECK(has(key), ValueError, "{}: option '{}' is required", state_->type, key);
  return integer(key, 0);
}
std::int64_t ConfigReader::integer(const std::string& key, std::int64_t fallback) {
  state_->read.insert(key);
  if (!has(key)) return fallback;
  const auto& v = state_->config[key];
  return int64_of(state_->type, key, "an integer below 2^63", v, v);
}
double ConfigReader::number(const std::string& key) {
  LOOM_CHECK(has(key), ValueError, "{}: option '{}' is required", state_->type, key);
  return number(key, 0);
}
double ConfigReader::number(const std::string& key, double fallback) {
  state_->read.insert(key);
  if (!has(key)) return fallback;
  const auto& v = state_->config[key];
  if (!v.is_number()) wrong_type(state_->type, key, "a number", v);
  return v.get<double>();
}
bool ConfigReader::boolean(const std::string& key, bool fallback) {
  state_->read.insert(key);
  if (!has(key)) return fallback;
  const auto& v = state_->config[key];
  if (!v.is_boolean()) wrong_type(state_->type, key, "true or false", v);
  return v.get<bool>();
}
std::string ConfigReader::text(const std::string& key, const std::string& fallback, const std::vector<std::string>& allowed) {
  state_->read.insert(key);
  if (!has(key)) return fallback;
  const auto& v = state_->config[key];
  if (!v.is_string()) wrong_type(state_->type, key, "a string", v);
  std::string s = v.get<std::string>();
  LOOM_CHECK(allowed.empty() || std::find(allowed.begin(), allowed.end(), s) != allowed.end(), ValueError,
             "{}: option '{}' must be one of {}, found \"{}\"", state_->type, key, allowed, s);
  return s;
}
std::vector<std::int64_t> ConfigReader::integers(const std::string& key, std::vector<std::int64_t> fallback) {
  state_->read.insert(key);
  if (!has(key)) return fallback;
  const auto& v = state_->config[key];
  if (!v.is_array()) wrong_type(state_->type, key, "a list of integers", v);
  std::vector<std::int64_t> out;
  for (const auto& e : v) out.push_back(int64_of(state_->type, key, "a list of integers below 2^63", v, e));
  return out;
}
std::vector<std::int64_t> ConfigReader::integers_or_one(const std::string& key, std::size_t count) {
  LOOM_CHECK(has(key), ValueError, "{}: option '{}' is required", state_->type, key);
  return integers_or_one(key, count, {});
}
std::vector<std::int64_t> ConfigReader::integers_or_one(const std::string& key, std::size_t count,
                                                        std::vector<std::int64_t> fallback) {
  if (has(key) && state_->config[key].is_number_integer())
    return std::vector<std::int64_t>(count, integer(key, 0));
  std::vector<std::int64_t> v = integers(key, std::move(fallback));
  LOOM_CHECK(v.size() == count, ValueError, "{}: option '{}' needs {} values, found {}", state_->type, key, count,
             v.size());
  return v;
}
const nlohmann::json& ConfigReader::raw(const std::string& key) {
  LOOM_CHECK(has(key), ValueError, "{}: option '{}' is required", state_->type, key);
  state_->read.insert(key);
  return state_->config[key];
}
void ConfigReader::finish() {
  std::vector<std::string> unknown;
  for (const auto& [key, value] : state_->config.items())
    if (!state_->read.count(key)) unknown.push_back(key);
  if (unknown.empty()) return;
  std::vector<std::string> known(state_->read.begin(), state_->read.end());
  LOOM_THROW(ValueError, "{}: unknown option{} {} (options: {})", state_->type, unknown.size() > 1 ? "s" : "",
             fmt::format("'{}'", fmt::join(unknown, "', '")), fmt::join(known, ", "));
}

}  // namespace loom::nn
