// Backend lookup: device type → registered backend, instantiated on first use.
#include <cstdlib>

#include "loom/check.hpp"
#include "loom/runtime.hpp"
#include "runtime/plugin_registry.hpp"

namespace loom {

namespace detail {

Registry& registry() {
  static Registry* r = new Registry;  // intentionally never destroyed (see registry.hpp)
  return *r;
}

namespace {

Backend& instantiate(Registry& r, const std::string& name) {
  auto it = r.backends.find(name);
  LOOM_CHECK(it != r.backends.end(), DeviceError, "backend '{}' is not registered; registered: {}",
             name, backend_names());
  BackendEntry& e = it->second;
  if (!e.instance) {
    try {
      e.instance = e.factory();
    } catch (const std::exception& ex) {
      LOOM_THROW(PluginError, "backend '{}' from {} failed to start: {}", name, e.path, ex.what());
    }
    LOOM_CHECK(e.instance != nullptr, PluginError, "backend '{}' from {} returned no backend", name, e.path);
  }
  return *e.instance;
}

// The default route of a device type: the backend named like the type ("cpu"), else the first
// registered for it; LOOM_CPU_BACKEND picks another for the CPU (e.g. cpu-reference).
std::string default_route(const Registry& r, DeviceType type) {
  if (type == DeviceType::CPU) {
    if (const char* env = std::getenv("LOOM_CPU_BACKEND"); env && *env) return env;
  }
  const std::string wanted(device_type_name(type));
  if (r.backends.count(wanted)) return wanted;
  for (const auto& [name, e] : r.backends)
    if (e.device == type) return name;
  return {};
}

}  // namespace
}  // namespace detail

Backend& backend_for(DeviceType type) {
  using namespace detail;
  Registry& r = registry();
  const auto slot = static_cast<std::size_t>(type);
  if (Backend* b = r.cached[slot].load(std::memory_order_acquire)) return *b;
  std::lock_guard lock(r.mutex);
  load_plugins_locked(r);
  if (r.routes[slot].empty()) r.routes[slot] = default_route(r, type);
  LOOM_CHECK(!r.routes[slot].empty(), DeviceError,
             "no backend for device type '{}': no loaded plugin provides one.\n{}",
             device_type_name(type), describe_search(r));
  Backend& b = instantiate(r, r.routes[slot]);
  LOOM_CHECK(b.device_type() == type, DeviceError,
             "backend '{}' serves device type '{}', not '{}'", b.name(),
             device_type_name(b.device_type()), device_type_name(type));
  r.cached[slot].store(&b, std::memory_order_release);
  return b;
}

Backend& backend_for(Device device) {
  Backend& b = backend_for(device.type);
  LOOM_CHECK(device.index == 0 || device.index < b.device_count(), DeviceError,
             "device {} does not exist: backend '{}' has {} device(s)", device.str(), b.name(),
             b.device_count());
  return b;
}

Backend& backend_named(std::string_view name) {
  using namespace detail;
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  load_plugins_locked(r);
  LOOM_CHECK(r.backends.count(name), DeviceError, "no backend named '{}'; registered: {}.\n{}",
             name, backend_names(), describe_search(r));
  return instantiate(r, std::string(name));
}

void set_backend(DeviceType type, std::string_view name) {
  using namespace detail;
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  Backend& b = backend_named(name);
  LOOM_CHECK(b.device_type() == type, DeviceError,
             "set_backend: backend '{}' serves device type '{}', not '{}'", name,
             device_type_name(b.device_type()), device_type_name(type));
  const auto slot = static_cast<std::size_t>(type);
  r.routes[slot] = std::string(name);
  r.cached[slot].store(&b, std::memory_order_release);
}

std::vector<std::string> backend_names() {
  using namespace detail;
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  load_plugins_locked(r);
  std::vector<std::string> names;
  for (const auto& [name, e] : r.backends) names.push_back(name);
  return names;
}

// ---- runtime ----
std::string version() { return LOOM_VERSION_STRING; }
std::string api_version() { return LOOM_API_VERSION_STRING; }

void set_num_threads(int n) {
  LOOM_CHECK(n > 0, ValueError, "set_num_threads: expected n ≥ 1, found {}", n);
  detail::Registry& r = detail::registry();
  std::lock_guard lock(r.mutex);
  // A program usually calls this first, before any op has loaded a backend: load and start them
  // now, so that the count reaches this thread's pool instead of being dropped (a backend applies
  // LOOM_NUM_THREADS when it starts, and this call overrides it). A backend that cannot start is
  // left alone here; its error comes when it is used.
  detail::load_plugins_locked(r);
  for (auto& [name, e] : r.backends) {
    try {
      detail::instantiate(r, name).set_num_threads(n);
    } catch (const PluginError&) {
    }
  }
}

int num_threads() { return backend_for(DeviceType::CPU).num_threads(); }

std::vector<std::pair<std::string, std::string>> runtime_info() {
  std::vector<std::pair<std::string, std::string>> rows = {
      {"loom", version()},
      {"plugin API version", api_version()},
      {"compiler ABI", LOOM_ABI_DESCRIPTION},
  };
  detail::Registry& r = detail::registry();
  std::lock_guard lock(r.mutex);
  detail::load_plugins_locked(r);
  for (auto& [name, e] : r.backends) {
    Backend& b = detail::instantiate(r, name);
    rows.emplace_back("backend " + name, fmt::format("device type {}, {} device(s), {} thread(s), from {}",
                                                     device_type_name(b.device_type()), b.device_count(),
                                                     b.num_threads(), e.path));
    for (auto& [k, v] : b.info()) rows.emplace_back("  " + k, v);
  }
  return rows;
}

}  // namespace loom
