// Registers every core layer by name with its JSON config (called once, on first use of the
// registry — never from a static initialiser).
#include <nlohmann/json.hpp>

#include "loom/check.hpp"
#include "loom/nn/activation.hpp"
#include "loom/nn/container.hpp"
#include "loom/nn/dropout.hpp"
#include "loom/nn/embedding.hpp"
#include "loom/nn/linear.hpp"
#include "loom/nn/registry.hpp"

namespace loom::nn::detail {

void add_builtin(const std::string& type, ModuleKind kind, ModuleFactory factory);
void register_losses();  // loss_modules.cpp
void register_conv_layers();  // conv_layers.cpp
void register_norm_layers();  // norm_layers.cpp

namespace {

template <typename Make>
void layer(const std::string& type, Make make) {
  add_builtin(type, ModuleKind::Layer, [type, make](const nlohmann::json& config) -> std::shared_ptr<Module> {
    ConfigReader r(type, config);
    std::shared_ptr<Module> m = make(r);
    r.finish();
    return m;
  });
}

std::shared_ptr<Module> build_children(ConfigReader& r, std::shared_ptr<Sequential> seq) {
  const nlohmann::json& layers = r.raw("layers");
  LOOM_CHECK(layers.is_array(), ValueError, "sequential: option 'layers' must be a list of layer specs, found {}",
             layers.dump());
  for (const auto& spec : layers) seq->push_back(build(spec));
  return seq;
}

}  // namespace

void register_core_layers() {
  layer("linear", [](ConfigReader& r) {
    return std::make_shared<Linear>(r.integer("in_features"), r.integer("out_features"), r.boolean("bias", true));
  });
  layer("identity", [](ConfigReader&) { return std::make_shared<Identity>(); });
  layer("flatten", [](ConfigReader& r) {
    return std::make_shared<Flatten>(r.integer("start_dim", 1), r.integer("end_dim", -1));
  });
  layer("relu", [](ConfigReader&) { return std::make_shared<ReLU>(); });
  layer("sigmoid", [](ConfigReader&) { return std::make_shared<Sigmoid>(); });
  layer("tanh", [](ConfigReader&) { return std::make_shared<Tanh>(); });
  layer("silu", [](ConfigReader&) { return std::make_shared<SiLU>(); });
  layer("leaky_relu", [](ConfigReader& r) { return std::make_shared<LeakyReLU>(r.number("negative_slope", 0.01)); });
  layer("elu", [](ConfigReader& r) { return std::make_shared<ELU>(r.number("alpha", 1.0)); });
  layer("gelu", [](ConfigReader& r) {
    return std::make_shared<GELU>(r.text("approximate", "none", {"none", "tanh"}) == "tanh");
  });
  layer("prelu", [](ConfigReader& r) {
    return std::make_shared<PReLU>(r.integer("num_parameters", 1), r.number("init", 0.25));
  });
  layer("softmax", [](ConfigReader& r) { return std::make_shared<Softmax>(r.integer("dim", -1)); });
  layer("log_softmax", [](ConfigReader& r) { return std::make_shared<LogSoftmax>(r.integer("dim", -1)); });
  layer("maxout", [](ConfigReader& r) {
    return std::make_shared<Maxout>(r.integer("in_features"), r.integer("out_features"), r.integer("pieces"));
  });
  layer("dropout", [](ConfigReader& r) { return std::make_shared<Dropout>(r.number("p", 0.5)); });
  layer("dropout2d", [](ConfigReader& r) { return std::make_shared<Dropout2d>(r.number("p", 0.5)); });
  layer("embedding", [](ConfigReader& r) {
    return std::make_shared<Embedding>(EmbeddingOptions{r.integer("num_embeddings"), r.integer("embedding_dim"),
                                                        r.integer("padding_idx", -1)});
  });
  layer("sequential", [](ConfigReader& r) { return build_children(r, std::make_shared<Sequential>()); });
}

void register_builtin_modules() {
  register_core_layers();
  register_losses();
  register_conv_layers();
  register_norm_layers();
}

}  // namespace loom::nn::detail
