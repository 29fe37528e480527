#pragma once
// Plugins: shared libraries linked against libloom.so that register backends, layers and
// architectures. A plugin exports exactly one symbol, made by LOOM_PLUGIN(...):
//
//   static void register_all(loom::PluginRegistrar& r) { r.add_backend("cpu", make_cpu); }
//   LOOM_PLUGIN("cpu", loom::PluginKind::Backend, "0.1.0", register_all, "cpu", "cpu-reference")
//
//   static void register_all(loom::PluginRegistrar& r) { r.add_architecture("resnet", make_resnet); }
//   LOOM_PLUGIN("resnet", loom::PluginKind::Arch, "0.1.0", register_all, "resnet")
//
// Layer and architecture types are then built by name like the core's own:
// nn::build({"type": "resnet", ...}) loads the plugins on the search path when a type is unknown.
//
// The symbol's name carries the API version (loom_plugin_entry_v<hash>), so the loader sees a
// plugin built for another libloom in its symbol table, before loading it. Plugins contain no
// static initialisers that register anything, and are never unloaded.
//
// Search order: LOOM_PLUGIN_PATH (colon-separated), then lib/loom/plugins beside libloom.so,
// then the build tree's plugin folder. A file name found again later is "shadowed"; set
// LOOM_NO_DEFAULT_PLUGIN_DIRS=1 to search LOOM_PLUGIN_PATH only.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "loom/api_version.hpp"
#include "loom/device.hpp"
#include "loom/export.hpp"
#include "loom/nn/registry.hpp"

namespace loom {

class Backend;
class PluginRegistrar;

enum class PluginKind : unsigned char { Backend, Arch, Layer };
LOOM_API const char* plugin_kind_name(PluginKind kind);  // "backend", "arch", "layer"

// What a plugin's entry returns. Plain data, constant-initialised inside the plugin.
struct PluginDescriptor {
  const char* name;                // "cpu"
  PluginKind kind;
  const char* version;             // the plugin's own version
  const char* const* provides;     // names it registers, null-terminated
  const char* api_version;         // LOOM_API_VERSION_STRING it was built with
  void (*register_all)(PluginRegistrar&);
};

using BackendFactory = std::function<std::unique_ptr<Backend>()>;

// Handed to a plugin's register_all. Registrations are collected and committed only when
// register_all returns normally and every name is declared in `provides` and not taken by an
// earlier file; otherwise the whole plugin is refused and nothing of it stays registered.
class LOOM_API PluginRegistrar {
 public:
  virtual ~PluginRegistrar();
  // The factory runs on first use of the backend (after all plugins are loaded).
  virtual void add_backend(const std::string& name, DeviceType device, BackendFactory factory) = 0;
  // A module type for nn::build (kind Layer, Loss or Architecture).
  virtual void add_module(const std::string& type, nn::ModuleKind kind, nn::ModuleFactory factory) = 0;
  void add_layer(const std::string& type, nn::ModuleFactory factory) {
    add_module(type, nn::ModuleKind::Layer, std::move(factory));
  }
  void add_architecture(const std::string& type, nn::ModuleFactory factory) {
    add_module(type, nn::ModuleKind::Architecture, std::move(factory));
  }
};

enum class PluginStatus : unsigned char { Loaded, Shadowed, Refused };
LOOM_API const char* plugin_status_name(PluginStatus status);

struct PluginRecord {
  std::string path;                 // the file
  PluginStatus status = PluginStatus::Refused;
  std::string reason;               // why shadowed or refused (empty when loaded)
  std::string name;                 // from the descriptor (empty if it was never read)
  std::string kind;
  std::string version;
  std::vector<std::string> provides;
};

// Loads every plugin on the search path once (later calls return at once). Thread-safe.
LOOM_API void load_plugins();
// Every plugin file seen, in search order, with its status.
LOOM_API std::vector<PluginRecord> plugin_records();
// The folders searched, in order, each with where it came from ("LOOM_PLUGIN_PATH", ...).
struct PluginFolder {
  std::string path;
  std::string origin;
  bool exists = false;
};
LOOM_API std::vector<PluginFolder> plugin_search_path();
// Loads one more plugin file (e.g. from a test). Returns its record; never throws for a bad
// plugin — the record says why it was refused.
LOOM_API PluginRecord load_plugin_file(const std::string& path);

}  // namespace loom

// ---- the entry macro ------------------------------------------------------------------------------
#define LOOM_PLUGIN_ENTRY_PREFIX "loom_plugin_entry_"
#define LOOM_PLUGIN_ENTRY LOOM_CONCAT(loom_plugin_entry_, LOOM_API_VERSION_HASH)
#define LOOM_PLUGIN(NAME, KIND, VERSION, REGISTER_FN, ...)                                      \
  extern "C" __attribute__((visibility("default"))) const ::loom::PluginDescriptor*          \
  LOOM_PLUGIN_ENTRY() {                                                                       \
    static constexpr const char* loom_provides[] = {__VA_ARGS__, nullptr};                   \
    static constexpr ::loom::PluginDescriptor loom_descriptor{                                \
        NAME, KIND, VERSION, loom_provides, LOOM_API_VERSION_STRING, REGISTER_FN};            \
    return &loom_descriptor;                                                                  \
  }
