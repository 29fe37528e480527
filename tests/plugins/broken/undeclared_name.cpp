// Broken on purpose: registers "test-undeclared", which its descriptor does not list in provides.
#include "loom/plugin.hpp"
#include "test_backend.hpp"

namespace {
void register_all(loom::PluginRegistrar& r) {
  r.add_backend("test-declared", loom::DeviceType::CPU, loom_test_plugin::test_backend_factory("test-declared"));
  r.add_backend("test-undeclared", loom::DeviceType::CPU, loom_test_plugin::test_backend_factory("test-undeclared"));
}
}  // namespace

LOOM_PLUGIN("test-undeclared", loom::PluginKind::Backend, "0.1.0", register_all, "test-declared")
