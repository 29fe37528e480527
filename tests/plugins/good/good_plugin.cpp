// A well-formed test plugin: registers the "test-good" backend, and exports a function that
// throws loom::ShapeError so that the test can catch a plugin's error by type.
#include "loom/plugin.hpp"
#include "test_backend.hpp"

namespace {
void register_all(loom::PluginRegistrar& r) {
  r.add_backend("test-good", loom::DeviceType::CPU, loom_test_plugin::test_backend_factory("test-good"));
}
}  // namespace

LOOM_PLUGIN("test-good", loom::PluginKind::Backend, "1.2.3", register_all, "test-good")

extern "C" __attribute__((visibility("default"))) void loom_test_throw_shape_error() {
  throw loom::ShapeError("loom_test_throw_shape_error: expected shape (2, 3), found (3, 2)");
}
