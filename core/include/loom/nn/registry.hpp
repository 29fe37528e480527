#pragma once
// Layers, losses and architectures by name, built from JSON configs:
//
// ```cpp
// auto model = loom::nn::build(R"({"type": "sequential", "layers": [
//     {"type": "linear", "in_features": 784, "out_features": 256}, {"type": "relu"},
//     {"type": "linear", "in_features": 256, "out_features": 10}]})"_json);
// ```
//
// A type that is not registered makes the registry load the plugins on the search path and
// look again; then it is a ValueError naming the type and the registered ones.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "loom/export.hpp"
#include "loom/nn/module.hpp"

namespace loom::nn {

using ModuleFactory = std::function<std::shared_ptr<Module>(const nlohmann::json& config)>;

// What a registered type is, for listings and the test suites' registry walks.
enum class ModuleKind : unsigned char { Layer, Loss, Architecture };
LOOM_API const char* module_kind_name(ModuleKind kind);

// Registers (or, for the same `origin`, replaces) a type. Thread-safe.
LOOM_API void register_module_type(const std::string& type, ModuleKind kind, ModuleFactory factory,
                                   const std::string& origin = "libloom");
LOOM_API bool has_module_type(const std::string& type);
LOOM_API std::vector<std::string> module_types(ModuleKind kind);
// Builds {"type": "...", <options>}. Errors name the type, the option and what was expected.
LOOM_API std::shared_ptr<Module> build(const nlohmann::json& spec);

// Reads a layer's options from its JSON config with defaults, and rejects options it does not
// know: "linear: unknown option 'out_feature' (options: in_features, out_features, bias)".
class LOOM_API ConfigReader {
 public:
  ConfigReader(std::string type, const nlohmann::json& config);
  ~ConfigReader();
  std::int64_t integer(const std::string& key);                      // required
  std::int64_t integer(const std::string& key, std::int64_t fallback);
  double number(const std::string& key);
  double number(const std::string& key, double fallback);
  bool boolean(const std::string& key, bool fallback);
  std::string text(const std::string& key, const std::string& fallback, const std::vector<std::string>& allowed);
  std::vector<std::int64_t> integers(const std::string& key, std::vector<std::int64_t> fallback);
  // An int or a list of ints (kernel_size: 3 or [3, 5]) as `count` values.
  std::vector<std::int64_t> integers_or_one(const std::string& key, std::size_t count);  // required
  std::vector<std::int64_t> integers_or_one(const std::string& key, std::size_t count, std::vector<std::int64_t> fallback);
  const nlohmann::json& raw(const std::string& key);  // required sub-object or list
  bool has(const std::string& key) const;
  // Throws for any key that was never read.
  void finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace loom::nn
