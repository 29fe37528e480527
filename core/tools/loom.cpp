// loom — the command-line tool.
//   loom plugins   every plugin file found: name, kind, version, path, registered names;
//                  shadowed and refused files with the reason
//   loom info      version, plugin API version, backends, threads, BLAS and oneDNN versions
//   loom summary <spec.json> --input C,H,W
//                  builds the model of a JSON spec and prints its per-layer summary
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>
#include <exception>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "loom/backend.hpp"
#include "loom/nn/module.hpp"
#include "loom/nn/registry.hpp"
#include "loom/plugin.hpp"
#include "loom/runtime.hpp"

namespace {

int print_usage(std::FILE* to) {
  fmt::print(to,
             "usage: loom <command>\n"
             "  plugins   list the plugins found, with their status, path and registered names\n"
             "  info      version, plugin API version, backends, threads, BLAS and oneDNN versions\n"
             "  summary <spec.json> --input C,H,W\n"
             "            the per-layer summary (output shapes, parameters) of a model spec\n");
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

// "1,28,28" → {1, 28, 28}
loom::Shape parse_shape(const std::string& text) {
  loom::Shape shape;
  std::size_t at = 0;
  while (at <= text.size()) {
    const std::size_t comma = text.find(',', at);
    const std::string part = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    std::size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(part, &used);
    } catch (const std::exception&) {
    }
    if (used != part.size() || v <= 0)
      throw loom::ValueError("loom summary: --input expects positive sizes like 1,28,28, found '" + text + "'");
    shape.push_back(v);
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return shape;
}

int summary(int argc, char** argv) {
  if (argc != 5 || std::strcmp(argv[3], "--input") != 0) return print_usage(stderr);
  std::ifstream file(argv[2]);
  if (!file) throw loom::IOError(std::string("loom summary: cannot open spec file '") + argv[2] + "'");
  nlohmann::json spec;
  try {
    spec = nlohmann::json::parse(file);
  } catch (const nlohmann::json::exception& e) {
    throw loom::IOError(std::string("loom summary: '") + argv[2] + "' is not valid JSON: " + e.what());
  }
  auto model = loom::nn::build(spec);
  fmt::print("{}", loom::nn::summary(*model, parse_shape(argv[4])).str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "summary") == 0) {
    try {
      return summary(argc, argv);
    } catch (const std::exception& e) {
      fmt::print(stderr, "{}\n", e.what());
      return 1;
    }
  }
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
