// A well-formed test plugin: registers the "test-good" backend and the "test-good-double" layer
// (y = 2x), and exports a function that throws loom::ShapeError so that the test can catch a
// plugin's error by type.
#include <nlohmann/json.hpp>

#include "loom/nn/module.hpp"
#include "loom/plugin.hpp"
#include "test_backend.hpp"

namespace {

class Double final : public loom::nn::Module {
 public:
  Double() : Module("test-good-double") {}
  loom::Tensor forward(const loom::Tensor& x) override { return x * 2.0; }
};

void register_all(loom::PluginRegistrar& r) {
  r.add_backend("test-good", loom::DeviceType::CPU, loom_test_plugin::test_backend_factory("test-good"));
  r.add_layer("test-good-double", [](const nlohmann::json& config) -> std::shared_ptr<loom::nn::Module> {
    loom::nn::ConfigReader("test-good-double", config).finish();
    return std::make_shared<Double>();
  });
}
}  // namespace

LOOM_PLUGIN("test-good", loom::PluginKind::Backend, "1.2.3", register_all, "test-good", "test-good-double")

extern "C" __attribute__((visibility("default"))) void loom_test_throw_shape_error() {
  throw loom::ShapeError("loom_test_throw_shape_error: expected shape (2, 3), found (3, 2)");
}
