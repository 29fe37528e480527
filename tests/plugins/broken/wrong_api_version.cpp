// Broken on purpose: its entry is named for API version 000000000000, which no libloom has.
#include "loom/plugin.hpp"
#include "test_backend.hpp"

namespace {
void register_all(loom::PluginRegistrar& r) {
  r.add_backend("test-old-api", loom::DeviceType::CPU, loom_test_plugin::test_backend_factory("test-old-api"));
}
constexpr const char* kProvides[] = {"test-old-api", nullptr};
constexpr loom::PluginDescriptor kDescriptor{"test-old-api", loom::PluginKind::Backend, "0.0.1",
                                             kProvides, "000000000000", register_all};
}  // namespace

extern "C" __attribute__((visibility("default"))) const loom::PluginDescriptor*
loom_plugin_entry_v000000000000() {
  return &kDescriptor;
}
