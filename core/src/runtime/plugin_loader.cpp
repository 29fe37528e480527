// Finding and loading plugins (DESIGN §3). Every failure becomes a "refused" record with one
// clear reason; the other plugins still load.
#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <vector>

// Boost.DLL 1.74 uses std::vector without including it: keep <vector> first.
#include <boost/dll/library_info.hpp>
#include <boost/dll/shared_library.hpp>

#include "loom/check.hpp"
#include "runtime/plugin_registry.hpp"

namespace fs = std::filesystem;

namespace loom {

const char* plugin_kind_name(PluginKind kind) {
  switch (kind) {
    case PluginKind::Backend: return "backend";
    case PluginKind::Arch: return "arch";
    case PluginKind::Layer: return "layer";
  }
  return "unknown";
}

const char* plugin_status_name(PluginStatus status) {
  switch (status) {
    case PluginStatus::Loaded: return "loaded";
    case PluginStatus::Shadowed: return "shadowed";
    case PluginStatus::Refused: return "refused";
  }
  return "unknown";
}

PluginRegistrar::~PluginRegistrar() = default;

namespace detail {
namespace {

constexpr std::string_view kEntryPrefix = LOOM_PLUGIN_ENTRY_PREFIX;
const std::string kExpectedEntry = std::string(kEntryPrefix) + "v" LOOM_API_VERSION_STRING;

// Folder of libloom.so itself, found through the address of a function inside it.
fs::path libloom_folder() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&libloom_folder), &info) && info.dli_fname)
    return fs::path(info.dli_fname).parent_path();
  return {};
}

std::vector<PluginFolder> compute_search_path() {
  std::vector<PluginFolder> folders;
  std::set<std::string> seen;
  auto add = [&](const fs::path& p, const std::string& origin) {
    if (p.empty()) return;
    std::error_code ec;
    fs::path canonical = fs::weakly_canonical(p, ec);
    std::string key = (ec ? p : canonical).string();
    if (!seen.insert(key).second) return;
    folders.push_back({p.string(), origin, fs::is_directory(p, ec)});
  };
  if (const char* env = std::getenv("LOOM_PLUGIN_PATH"); env && *env) {
    std::string_view list(env);
    while (!list.empty()) {
      auto colon = list.find(':');
      std::string_view item = list.substr(0, colon);
      if (!item.empty()) add(fs::path(item), "LOOM_PLUGIN_PATH");
      if (colon == std::string_view::npos) break;
      list.remove_prefix(colon + 1);
    }
  }
  const char* no_defaults = std::getenv("LOOM_NO_DEFAULT_PLUGIN_DIRS");
  if (!(no_defaults && *no_defaults && std::string_view(no_defaults) != "0")) {
    fs::path lib = libloom_folder();
    if (!lib.empty()) add(lib / "loom" / "plugins", "beside libloom.so");
    add(fs::path(LOOM_BUILD_PLUGIN_DIR), "build tree");
  }
  return folders;
}

bool is_plugin_file(const fs::path& p) {
  const std::string name = p.filename().string();
  return name.starts_with("libloom-") && name.ends_with(".so");
}

// Collects a plugin's registrations; they are committed only if all of them are valid.
class CollectingRegistrar final : public PluginRegistrar {
 public:
  struct Pending {
    std::string name;
    DeviceType device;
    BackendFactory factory;
  };
  struct PendingModule {
    std::string type;
    nn::ModuleKind kind;
    nn::ModuleFactory factory;
  };
  std::vector<Pending> backends;
  std::vector<PendingModule> modules;
  void add_backend(const std::string& name, DeviceType device, BackendFactory factory) override {
    backends.push_back({name, device, std::move(factory)});
  }
  void add_module(const std::string& type, nn::ModuleKind kind, nn::ModuleFactory factory) override {
    modules.push_back({type, kind, std::move(factory)});
  }
};

PluginRecord refused(PluginRecord rec, std::string reason) {
  rec.status = PluginStatus::Refused;
  rec.reason = std::move(reason);
  return rec;
}

PluginRecord load_file(Registry& r, const fs::path& path) {
  PluginRecord rec;
  rec.path = path.string();

  // 1. Read the symbol table without loading: the entry's name carries the API version.
  std::vector<std::string> entries;
  try {
    boost::dll::library_info info(path);
    for (const std::string& sym : info.symbols())
      if (sym.starts_with(kEntryPrefix)) entries.push_back(sym);
  } catch (const std::exception& e) {
    return refused(rec, fmt::format("not a readable shared library ({})", e.what()));
  }
  if (entries.empty()) {
    return refused(rec, fmt::format("no entry symbol: expected '{}' (made by LOOM_PLUGIN(...)); "
                                    "is this a Loom plugin?", kExpectedEntry));
  }
  if (std::find(entries.begin(), entries.end(), kExpectedEntry) == entries.end()) {
    return refused(rec, fmt::format("built for plugin API version '{}', but this libloom is '{}': "
                                    "rebuild the plugin against this Loom",
                                    entries.front().substr(kEntryPrefix.size() + 1), LOOM_API_VERSION_STRING));
  }

  // 2. Load with RTLD_NOW: a missing symbol fails here, not at its first call.
  auto lib = std::make_shared<boost::dll::shared_library>();
  boost::dll::fs::error_code ec;
  lib->load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec || !lib->is_loaded()) {
    const char* why = dlerror();
    return refused(rec, fmt::format("cannot be loaded: {}", why ? why : ec.message()));
  }
  r.handles.push_back(lib);  // never unloaded, even if refused below

  // 3. Read the descriptor.
  const PluginDescriptor* d = nullptr;
  try {
    d = lib->get<const PluginDescriptor*()>(kExpectedEntry)();
  } catch (const std::exception& e) {
    return refused(rec, fmt::format("its entry '{}' failed: {}", kExpectedEntry, e.what()));
  }
  if (!d || !d->name || !d->version || !d->provides || !d->register_all || !d->api_version)
    return refused(rec, "its entry returned an incomplete descriptor (name, version, provides and "
                        "register_all are required)");
  rec.name = d->name;
  rec.kind = plugin_kind_name(d->kind);
  rec.version = d->version;
  for (const char* const* p = d->provides; *p; ++p) rec.provides.emplace_back(*p);
  if (std::string_view(d->api_version) != LOOM_API_VERSION_STRING)
    return refused(rec, fmt::format("descriptor says API version '{}', this libloom is '{}'",
                                    d->api_version, LOOM_API_VERSION_STRING));

  // 4. Register, all or nothing.
  CollectingRegistrar registrar;
  try {
    d->register_all(registrar);
  } catch (const std::exception& e) {
    return refused(rec, fmt::format("its registration threw: {}", e.what()));
  } catch (...) {
    return refused(rec, "its registration threw an exception that is not a std::exception");
  }
  for (const auto& b : registrar.backends) {
    if (std::find(rec.provides.begin(), rec.provides.end(), b.name) == rec.provides.end())
      return refused(rec, fmt::format("it registers '{}', which its descriptor does not declare "
                                      "(provides: {})", b.name, rec.provides));
    if (auto it = r.backends.find(b.name); it != r.backends.end())
      return refused(rec, fmt::format("'{}' is already registered by {}", b.name, it->second.path));
    if (!b.factory) return refused(rec, fmt::format("backend '{}' has no factory", b.name));
  }
  for (const auto& m : registrar.modules) {
    if (std::find(rec.provides.begin(), rec.provides.end(), m.type) == rec.provides.end())
      return refused(rec, fmt::format("it registers {} type '{}', which its descriptor does not declare "
                                      "(provides: {})", nn::module_kind_name(m.kind), m.type, rec.provides));
    if (nn::has_module_type(m.type))
      return refused(rec, fmt::format("{} type '{}' is already registered (by libloom or an earlier plugin)",
                                      nn::module_kind_name(m.kind), m.type));
    if (!m.factory) return refused(rec, fmt::format("{} type '{}' has no factory", nn::module_kind_name(m.kind), m.type));
  }
  for (auto& b : registrar.backends) {
    BackendEntry e;
    e.device = b.device;
    e.factory = std::move(b.factory);
    e.path = rec.path;
    r.backends.emplace(b.name, std::move(e));
  }
  for (auto& m : registrar.modules) nn::register_module_type(m.type, m.kind, std::move(m.factory), rec.path);
  rec.status = PluginStatus::Loaded;
  return rec;
}

}  // namespace

void load_plugins_locked(Registry& r) {
  if (r.loaded) return;
  r.loaded = true;
  r.folders = compute_search_path();
  // File name → the first path that is not refused: a truncated or broken copy earlier on the
  // path must not hide a good one of the same name later.
  std::map<std::string, std::string> first_by_name;
  for (const PluginFolder& folder : r.folders) {
    if (!folder.exists) continue;
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(folder.path, ec))
      if (is_plugin_file(entry.path())) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
      const std::string name = file.filename().string();
      if (auto it = first_by_name.find(name); it != first_by_name.end()) {
        PluginRecord rec;
        rec.path = file.string();
        rec.status = PluginStatus::Shadowed;
        rec.reason = "shadowed by " + it->second;
        r.records.push_back(std::move(rec));
        continue;
      }
      PluginRecord rec = load_file(r, file);
      if (rec.status != PluginStatus::Refused) first_by_name.emplace(name, file.string());
      r.records.push_back(std::move(rec));
    }
  }
}

std::string describe_search(const Registry& r) {
  const char* env = std::getenv("LOOM_PLUGIN_PATH");
  std::string s = fmt::format("LOOM_PLUGIN_PATH={}; folders searched:",
                              env ? fmt::format("'{}'", env) : std::string("(unset)"));
  if (r.folders.empty()) s += " none";
  for (const PluginFolder& f : r.folders)
    s += fmt::format("\n  {} ({}{})", f.path, f.origin, f.exists ? "" : ", missing");
  const char* no_defaults = std::getenv("LOOM_NO_DEFAULT_PLUGIN_DIRS");
  if (no_defaults && *no_defaults && std::string_view(no_defaults) != "0")
    s += "\n  (default folders skipped: LOOM_NO_DEFAULT_PLUGIN_DIRS is set)";
  for (const PluginRecord& rec : r.records)
    if (rec.status == PluginStatus::Refused) s += fmt::format("\n  refused {}: {}", rec.path, rec.reason);
  s += "\nSet LOOM_PLUGIN_PATH to a folder holding libloom-backend-cpu.so (build/lib/loom/plugins).";
  return s;
}

}  // namespace detail

void load_plugins() {
  detail::Registry& r = detail::registry();
  std::lock_guard lock(r.mutex);
  detail::load_plugins_locked(r);
}

std::vector<PluginRecord> plugin_records() {
  detail::Registry& r = detail::registry();
  std::lock_guard lock(r.mutex);
  detail::load_plugins_locked(r);
  return r.records;
}

std::vector<PluginFolder> plugin_search_path() {
  detail::Registry& r = detail::registry();
  std::lock_guard lock(r.mutex);
  detail::load_plugins_locked(r);
  return r.folders;
}

PluginRecord load_plugin_file(const std::string& path) {
  detail::Registry& r = detail::registry();
  std::lock_guard lock(r.mutex);
  detail::load_plugins_locked(r);
  PluginRecord rec = detail::load_file(r, fs::path(path));
  r.records.push_back(rec);
  return rec;
}

}  // namespace loom
