// The U-Net module: construction from options (with the checks that make a bad config an error
// at build time, not a shape mismatch deep in the first forward) and the forward pass.
#include "unet.hpp"

#include <vector>

#include "loom/check.hpp"
#include "loom/nn/activation.hpp"
#include "loom/nn/conv.hpp"
#include "loom/nn/dropout.hpp"
#include "loom/nn/normalization.hpp"
#include "loom/nn/pooling.hpp"
#include "loom/nn/upsample.hpp"
#include "loom/tensor_ops.hpp"

namespace loom::archs {

namespace {

const char* decoder_name(UNetDecoder d) { return d == UNetDecoder::Transposed ? "transposed" : "upsample"; }

// conv 3×3 → [batch norm] → ReLU, twice: (N, in, H, W) → (N, out, H, W).
std::shared_ptr<nn::Sequential> conv_block(std::int64_t in, std::int64_t out, bool batch_norm) {
  auto block = std::make_shared<nn::Sequential>();
  for (std::int64_t from : {in, out}) {
    block->push_back(std::make_shared<nn::Conv2d>(
        nn::Conv2dOptions{.in_channels = from, .out_channels = out, .kernel_size = {3, 3}, .padding = {1, 1},
                          .bias = !batch_norm}));
    if (batch_norm) block->push_back(std::make_shared<nn::BatchNorm2d>(out));
    block->push_back(std::make_shared<nn::ReLU>());
  }
  return block;
}

// (N, in, H, W) → (N, out, 2H, 2W).
std::shared_ptr<nn::Module> up_block(std::int64_t in, std::int64_t out, UNetDecoder decoder) {
  if (decoder == UNetDecoder::Transposed)
    return std::make_shared<nn::ConvTranspose2d>(
        nn::ConvTranspose2dOptions{.in_channels = in, .out_channels = out, .kernel_size = {2, 2}, .stride = {2, 2}});
  auto up = std::make_shared<nn::Sequential>();
  up->push_back(std::make_shared<nn::Upsample>(
      nn::UpsampleOptions{.scale_factor = {2.0}, .mode = nn::functional::InterpolateMode::Bilinear}));
  up->push_back(std::make_shared<nn::Conv2d>(in, out, 1));
  return up;
}

void check_options(const UNetOptions& o) {
  LOOM_CHECK(o.in_channels > 0 && o.num_classes > 0 && o.base_channels > 0, ValueError,
             "unet: expected positive in_channels, num_classes and base_channels, found {}", o.str());
  LOOM_CHECK(o.depth >= 1 && o.depth <= 16, ValueError, "unet: expected depth in 1..16, found {} ({})", o.depth,
             o.str());
  LOOM_CHECK(o.dropout >= 0 && o.dropout < 1, ValueError, "unet: expected dropout in [0, 1), found {} ({})",
             o.dropout, o.str());
  const std::int64_t factor = std::int64_t{1} << o.depth;
  for (int d = 0; d < 2; ++d) {
    const std::int64_t size = o.input_size[static_cast<std::size_t>(d)];
    const char* dim = d == 0 ? "height" : "width";
    LOOM_CHECK(size >= factor, ValueError,
               "unet: input {} {} is too small for depth {}: {} halvings need at least {} pixels ({})", dim, size,
               o.depth, o.depth, factor, o.str());
    LOOM_CHECK(size % factor == 0, ValueError,
               "unet: input {} {} is not divisible by 2^depth = {} (depth {}); use a multiple of {} or a smaller "
               "depth ({})", dim, size, factor, o.depth, factor, o.str());
  }
}

}  // namespace

std::string UNetOptions::str() const {
  return fmt::format("in_channels {}, num_classes {}, input_size {}x{}, base_channels {}, depth {}, decoder {}, "
                     "norm {}, dropout {}", in_channels, num_classes, input_size[0], input_size[1], base_channels,
                     depth, decoder_name(decoder), batch_norm ? "batch" : "none", dropout);
}

UNet::UNet(UNetOptions o) : Module("UNet"), options(o) {
  check_options(options);
  encoders_ = register_module("encoders", std::make_shared<nn::ModuleList>());
  pools_ = register_module("pools", std::make_shared<nn::ModuleList>());
  std::int64_t in = options.in_channels;
  for (std::int64_t level = 0; level < options.depth; ++level) {
    const std::int64_t width = options.base_channels << level;
    encoders_->push_back(conv_block(in, width, options.batch_norm));
    pools_->push_back(std::make_shared<nn::MaxPool2d>(2));
    in = width;
  }
  bottleneck_ = register_module("bottleneck", conv_block(in, 2 * in, options.batch_norm));
  if (options.dropout > 0) bottleneck_->push_back(std::make_shared<nn::Dropout2d>(options.dropout));
  ups_ = register_module("ups", std::make_shared<nn::ModuleList>());
  decoders_ = register_module("decoders", std::make_shared<nn::ModuleList>());
  for (std::int64_t level = 0; level < options.depth; ++level) {
    const std::int64_t width = options.base_channels << level;
    ups_->push_back(up_block(2 * width, width, options.decoder));
    decoders_->push_back(conv_block(2 * width, width, options.batch_norm));  // input: skip ++ upsampled
  }
  head_ = register_module("head", std::make_shared<nn::Conv2d>(options.base_channels, options.num_classes, 1));
}

Tensor UNet::forward(const Tensor& x) {
  const std::int64_t factor = std::int64_t{1} << options.depth;
  LOOM_CHECK(x.dim() == 4 && x.size(1) == options.in_channels, ShapeError,
             "unet: expected input (N, {}, H, W), found {}", options.in_channels, x.sizes().str());
  LOOM_CHECK(x.size(2) % factor == 0 && x.size(3) % factor == 0 && x.size(2) >= factor && x.size(3) >= factor,
             ShapeError, "unet: expected H and W divisible by 2^depth = {} (depth {}), found input {}", factor,
             options.depth, x.sizes().str());
  const auto levels = static_cast<std::size_t>(options.depth);
  std::vector<Tensor> skips;  // skips[l]: (N, base·2^l, H/2^l, W/2^l)
  Tensor h = x;
  for (std::size_t level = 0; level < levels; ++level) {
    skips.push_back((*(*encoders_)[level])(h));
    h = (*(*pools_)[level])(skips.back());
  }
  h = (*bottleneck_)(h);  // (N, base·2^depth, H/2^depth, W/2^depth)
  for (std::size_t level = levels; level-- > 0;) {
    const Tensor up = (*(*ups_)[level])(h);  // (N, base·2^level, H/2^level, W/2^level)
    h = (*(*decoders_)[level])(cat({skips[level], up}, 1));
  }
  return (*head_)(h);  // (N, num_classes, H, W)
}

std::string UNet::extra_repr() const { return options.str(); }

}  // namespace loom::archs
