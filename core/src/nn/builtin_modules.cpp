// Registers every core layer by name with its JSON config (called once, on first use of the
// registry — never from a static initialiser).
#include <nlohmann/json.hpp>

#include "builtin_registration.hpp"
#include "loom/check.hpp"
#include "loom/nn/activation.hpp"
#include "loom/nn/container.hpp"
#include "loom/nn/dropout.hpp"
#include "loom/nn/embedding.hpp"
#include "loom/nn/linear.hpp"
#include "loom/nn/registry.hpp"

namespace loom::nn::detail {

namespace {

std::shared_ptr<Module> build_children(ConfigReader& r, std::shared_ptr<Sequential> seq) {
  const nlohmann::json& layers = r.raw("layers");
  LOOM_CHECK(layers.is_array(), ValueError, "sequential: option 'layers' must be a list of layer specs, found {}",
             layers.dump());
  for (const auto& spec : layers) seq->push_back(build(spec));
  return seq;
}

}  // namespace

void register_core_layers() {
  add_builtin_layer("linear", [](ConfigReader& r) {
    return std::make_shared<Linear>(r.integer("in_features"), r.integer("out_features"), r.boolean("bias", true));
  });
  add_builtin_layer("identity", [](ConfigReader&) { return std::make_shared<Identity>(); });
  add_builtin_layer("flatten", [](ConfigReader& r) {
    return std::make_shared<Flatten>(r.integer("start_dim", 1), r.integer("end_dim", -1));
  });
  add_builtin_layer("relu", [](ConfigReader&) { return std::make_shared<ReLU>(); });
  add_builtin_layer("sigmoid", [](ConfigReader&) { return std::make_shared<Sigmoid>(); });
  add_builtin_layer("tanh", [](ConfigReader&) { return std::make_shared<Tanh>(); });
  add_builtin_layer("silu", [](ConfigReader&) { return std::make_shared<SiLU>(); });
  add_builtin_layer("leaky_relu", [](ConfigReader& r) { return std::make_shared<LeakyReLU>(r.number("negative_slope", 0.01)); });
  add_builtin_layer("elu", [](ConfigReader& r) { return std::make_shared<ELU>(r.number("alpha", 1.0)); });
  add_builtin_layer("gelu", [](ConfigReader& r) {
    return std::make_shared<GELU>(r.text("approximate", "none", {"none", "tanh"}) == "tanh");
  });
  add_builtin_layer("prelu", [](ConfigReader& r) {
    return std::make_shared<PReLU>(r.integer("num_parameters", 1), r.number("init", 0.25));
  });
  add_builtin_layer("softmax", [](ConfigReader& r) { return std::make_shared<Softmax>(r.integer("dim", -1)); });
  add_builtin_layer("log_softmax", [](ConfigReader& r) { return std::make_shared<LogSoftmax>(r.integer("dim", -1)); });
  add_builtin_layer("maxout", [](ConfigReader& r) {
    return std::make_shared<Maxout>(r.integer("in_features"), r.integer("out_features"), r.integer("pieces"));
  });
  add_builtin_layer("dropout", [](ConfigReader& r) { return std::make_shared<Dropout>(r.number("p", 0.5)); });
  add_builtin_layer("dropout2d", [](ConfigReader& r) { return std::make_shared<Dropout2d>(r.number("p", 0.5)); });
  add_builtin_layer("embedding", [](ConfigReader& r) {
    return std::make_shared<Embedding>(EmbeddingOptions{r.integer("num_embeddings"), r.integer("embedding_dim"),
                                                        r.integer("padding_idx", -1)});
  });
  add_builtin_layer("sequential", [](ConfigReader& r) { return build_children(r, std::make_shared<Sequential>()); });
}

void register_builtin_modules() {
  register_core_layers();
  register_losses();
  register_conv_layers();
  register_pooling_layers();
  register_norm_layers();
  register_attention_layers();
  register_recurrent_layers();
}

}  // namespace loom::nn::detail
