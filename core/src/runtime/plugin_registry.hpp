#pragma once
// The process-wide plugin and backend registry (one instance, in libloom, never destroyed so
// that plugin handles stay open and backends outlive every tensor, even at exit).
#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "loom/backend.hpp"
#include "loom/plugin.hpp"

namespace loom::detail {

struct BackendEntry {
  DeviceType device = DeviceType::CPU;
  BackendFactory factory;
  std::unique_ptr<Backend> instance;  // made on first use
  std::string path;                   // the plugin file that registered it
};

struct Registry {
  std::recursive_mutex mutex;
  bool loaded = false;
  std::vector<PluginFolder> folders;
  std::vector<PluginRecord> records;
  std::map<std::string, BackendEntry, std::less<>> backends;
  std::array<std::string, kNumDeviceTypes> routes;            // device type → backend name
  std::array<std::atomic<Backend*>, kNumDeviceTypes> cached{};  // lock-free fast path
  std::vector<std::shared_ptr<void>> handles;                   // open libraries, never closed
};

Registry& registry();
// Loads every plugin on the search path (idempotent); caller holds the mutex.
void load_plugins_locked(Registry& r);
// Text for "no backend" errors: LOOM_PLUGIN_PATH and each folder searched.
std::string describe_search(const Registry& r);

}  // namespace loom::detail
