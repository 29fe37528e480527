// Broken on purpose: registers "cpu", which libloom-backend-cpu.so already provides.
#include "loom/plugin.hpp"
#include "test_backend.hpp"

namespace {
void register_all(loom::PluginRegistrar& r) {
  r.add_backend("cpu", loom::DeviceType::CPU, loom_test_plugin::test_backend_factory("cpu"));
}
}  // namespace

LOOM_PLUGIN("test-duplicate-cpu", loom::PluginKind::Backend, "0.1.0", register_all, "cpu")
