// loom — the command-line tool.
//   loom plugins   every plugin file found: name, kind, version, path, registered names;
//                  shadowed and refused files with the reason
//   loom info      version, plugin API version, backends, threads, BLAS and oneDNN versions
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>
#include <exception>

#include "loom/backend.hpp"
#include "loom/plugin.hpp"
#include "loom/runtime.hpp"

namespace {

int print_usage(std::FILE* to) {
  fmt::print(to,
             "usage: loom <command>\n"
             "  plugins   list the plugins found, with their status, path and registered names\n"
             "  info      version, plugin API version, backends, threads, BLAS and oneDNN versions\n");
  return to == stdout ? 0 : 2;
}

int plugins() {
  fmt::print("plugin search path:\n");
  for (const auto& f : loom::plugin_search_path())
    fmt::print("  {} ({}{})\n", f.path, f.origin, f.exists ? "" : ", missing");
  const auto records = loom::plugin_records();
  fmt::print("\n{} plugin file(s):\n", records.size());
  for (const auto& r : records) {
    if (r.status == loom::PluginStatus::Loaded) {
      fmt::print("  {:<10} {:<8} {:<8} {}\n", r.name, r.kind, r.version, r.path);
      fmt::print("  {:<10} registers: {}\n", "", fmt::join(r.provides, ", "));
    } else {
      fmt::print("  {:<10} {:<8} {}\n    {}\n", loom::plugin_status_name(r.status),
                 r.name.empty() ? "?" : r.name, r.path, r.reason);
    }
  }
  return 0;
}

int info() {
  for (const auto& [key, value] : loom::runtime_info()) fmt::print("{:<22} {}\n", key, value);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return print_usage(stderr);
  try {
    if (std::strcmp(argv[1], "plugins") == 0) return plugins();
    if (std::strcmp(argv[1], "info") == 0) return info();
    if (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) return print_usage(stdout);
    fmt::print(stderr, "loom: unknown command '{}'\n", argv[1]);
    return print_usage(stderr);
  } catch (const std::exception& e) {
    fmt::print(stderr, "loom {}: {}\n", argv[1], e.what());
    return 1;
  }
}
