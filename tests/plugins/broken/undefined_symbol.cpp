// Broken on purpose: calls a function that no library defines (linked without
// -Wl,--no-undefined), so loading it with RTLD_NOW must fail and name the symbol.
#include "loom/plugin.hpp"
#include "test_backend.hpp"

extern "C" void loom_test_symbol_defined_nowhere();

namespace {
void register_all(loom::PluginRegistrar& r) {
  loom_test_symbol_defined_nowhere();
  r.add_backend("test-undefined", loom::DeviceType::CPU, loom_test_plugin::test_backend_factory("test-undefined"));
}
}  // namespace

LOOM_PLUGIN("test-undefined", loom::PluginKind::Backend, "0.1.0", register_all, "test-undefined")
