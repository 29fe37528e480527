// Broken on purpose: register_all adds a backend, then throws. Nothing of it may stay registered.
#include <stdexcept>

#include "loom/plugin.hpp"
#include "test_backend.hpp"

namespace {
void register_all(loom::PluginRegistrar& r) {
  r.add_backend("test-boom", loom::DeviceType::CPU, loom_test_plugin::test_backend_factory("test-boom"));
  throw std::runtime_error("boom");
}
}  // namespace

LOOM_PLUGIN("test-boom", loom::PluginKind::Backend, "0.1.0", register_all, "test-boom")
