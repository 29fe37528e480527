// "vit": the Vision Transformer classifier (Dosovitskiy et al. 2021):
//
//   image (N, C, H, W) → patch_embed (conv, kernel = stride = patch_size) → (N, L, d_model) tokens
//   → [cls_token prepended] → pos_embed (learned) → dropout → encoder.layers.* (pre-norm)
//   → encoder.norm → class token or mean over tokens (pool) → head → (N, num_classes)
//
// L = (H/p)·(W/p); 28x28 with patch 4 gives 49 tokens, patch 7 gives 16. cls_token and
// pos_embed start N(0, 0.02²) truncated at ±2σ (timm's ViT); the rest keeps PyTorch's defaults.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/arch_options.hpp"
#include "loom/nn/init.hpp"
#include "loom/tensor_ops.hpp"
#include "factories.hpp"
#include "token_layers.hpp"

namespace loom::archs {

namespace {

const std::string kType = "vit";

struct ViTOptions {
  std::int64_t in_channels = 1, num_classes = 10;
  Size2 input{28, 28};
  std::int64_t patch_size = 4;
  nn::TransformerLayerOptions layer{.d_model = 64, .nhead = 4, .dim_feedforward = 128, .dropout = 0.1,
                                    .activation = nn::TransformerActivation::GELU, .norm_first = true};
  std::int64_t depth = 6;
  bool cls_pool = true;  // pool "cls"; false: "mean"
  std::int64_t tokens() const { return (input[0] / patch_size) * (input[1] / patch_size); }
};

class ViT final : public nn::Module {
 public:
  explicit ViT(const ViTOptions& o) : Module("VisionTransformer"), options(o) {
    const std::int64_t d = o.layer.d_model, p = o.patch_size;
    if (o.cls_pool) cls_token = register_parameter("cls_token", nn::init::trunc_normal_(zeros({1, 1, d}), 0, 0.02, -0.04, 0.04));
    patch_embed = register_module("patch_embed", std::make_shared<nn::Conv2d>(nn::Conv2dOptions{
                                                     .in_channels = o.in_channels, .out_channels = d,
                                                     .kernel_size = {p, p}, .stride = {p, p}}));
    pos_embed = register_module("pos_embed", std::make_shared<nn::LearnedPositionalEmbedding>(nn::PositionalEncodingOptions{
                                                 .d_model = d, .max_len = o.tokens() + (o.cls_pool ? 1 : 0), .batch_first = true}));
    dropout = register_module("dropout", std::make_shared<nn::Dropout>(o.layer.dropout));
    encoder = register_module("encoder", std::make_shared<nn::TransformerEncoder>(nn::TransformerEncoderOptions{
                                             .layer = o.layer, .num_layers = o.depth, .norm = true}));
    head = register_module("head", std::make_shared<nn::Linear>(d, o.num_classes));
  }

  // x: (N, in_channels, H, W) with (H, W) = input_size → logits (N, num_classes).
  Tensor forward(const Tensor& x) override {
    check_input(kType, x, options.in_channels, &options.input);
    Tensor tokens = (*patch_embed)(x).flatten(2).transpose(1, 2);  // (N, L, d_model)
    if (options.cls_pool) tokens = cat({cls_token.expand({x.size(0), 1, options.layer.d_model}), tokens}, 1);
    const Tensor h = (*encoder)((*dropout)((*pos_embed)(tokens)));  // operator(): summary() sees it
    return (*head)(options.cls_pool ? h.select(1, 0) : h.mean({1}));
  }

  // Its own work beside its children's rows: prepending the class token or averaging the tokens
  // (no multiply-adds), which mixes every position.
  std::optional<nn::LayerStats> stats(const nn::Shapes&, const nn::Shapes&) const override {
    return nn::LayerStats{.multiply_adds = 0, .mixes_all_positions = true, .includes_children = false};
  }

  std::string extra_repr() const override {
    return fmt::format("input_size=[{}, {}], patch_size={}, tokens={}, pool={}", options.input[0], options.input[1],
                       options.patch_size, options.tokens(), options.cls_pool ? "cls" : "mean");
  }

  ViTOptions options;
  Tensor cls_token;  // undefined with pool "mean"
  std::shared_ptr<nn::Conv2d> patch_embed;
  std::shared_ptr<nn::LearnedPositionalEmbedding> pos_embed;
  std::shared_ptr<nn::Dropout> dropout;
  std::shared_ptr<nn::TransformerEncoder> encoder;
  std::shared_ptr<nn::Linear> head;
};

}  // namespace

std::shared_ptr<nn::Module> make_vit(const nlohmann::json& config) {
  nn::ConfigReader r(kType, config);
  ViTOptions o;
  o.in_channels = read_in_channels(r, kType);
  o.num_classes = read_num_classes(r, kType);
  o.input = read_input_size(r, kType);
  o.patch_size = read_at_least(r, kType, "patch_size", o.patch_size, 1);
  o.layer = read_layer_options(r, kType, o.layer, /*norm_first_option=*/false);  // ViT is pre-norm
  o.depth = read_at_least(r, kType, "depth", o.depth, 1);
  o.cls_pool = r.text("pool", "cls", {"cls", "mean"}) == "cls";
  r.finish();
  LOOM_CHECK(o.input[0] % o.patch_size == 0 && o.input[1] % o.patch_size == 0, ValueError,
             "{}: input {}x{} is not divisible into {}x{} patches (options input_size and patch_size; config {})",
             kType, o.input[0], o.input[1], o.patch_size, o.patch_size, config.dump());
  return std::make_shared<ViT>(o);
}

}  // namespace loom::archs
