#pragma once
// U-Net (Ronneberger et al., 2015) for per-pixel classification, built from core layers:
//
//   x (N, in, H, W) ── block(in → b) ──────────────────────────── cat → block(2b → b) → 1×1 → (N, classes, H, W)
//                        pool ↓                                  ↑ up(2b → b)
//                        block(b → 2b) ──────────── cat → block(4b → 2b)
//                          pool ↓                   ↑ up(4b → 2b)
//                          ...  depth halvings ... bottleneck block(b·2^(depth−1) → b·2^depth) [dropout]
//
// A block is two 3×3 convolutions (padding 1), each followed by batch norm (norm "batch"; the
// convolution then has no bias, which the norm would cancel) and ReLU. "up" doubles the
// resolution and halves the channels: a 2×2 stride-2 transposed convolution ("transposed"), or
// bilinear upsampling followed by a 1×1 convolution ("upsample", fewer parameters, no
// checkerboard artefacts). Padding keeps every size exact, so H and W must be divisible by
// 2^depth: the skip and the upsampled map then have the same size and are concatenated as is.
#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "loom/nn/container.hpp"
#include "loom/nn/module.hpp"

namespace loom::archs {

enum class UNetDecoder : unsigned char { Transposed, Upsample };

struct UNetOptions {
  std::int64_t in_channels = 1;
  std::int64_t num_classes = 11;
  std::array<std::int64_t, 2> input_size{64, 64};  // (H, W) the model is built for
  std::int64_t base_channels = 16;                   // channels of the first block; doubled per level
  std::int64_t depth = 3;                            // number of 2×2 max-poolings
  UNetDecoder decoder = UNetDecoder::Transposed;
  bool batch_norm = true;
  double dropout = 0;  // channel dropout (Dropout2d) after the bottleneck; 0: none

  // "in_channels 1, num_classes 11, input_size 64x64, base_channels 16, depth 3, ..." for errors.
  std::string str() const;
};

class UNet : public nn::Module {
 public:
  // ValueError naming the options when they cannot make a model (non-positive sizes, an input
  // too small for `depth` halvings or not divisible by 2^depth, dropout outside [0, 1)).
  explicit UNet(UNetOptions options);
  // x: (N, in_channels, H, W) with H and W divisible by 2^depth → logits (N, num_classes, H, W).
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  const UNetOptions options;

 private:
  std::shared_ptr<nn::ModuleList> encoders_, pools_, ups_, decoders_;  // one per level, level 0 first
  std::shared_ptr<nn::Sequential> bottleneck_;
  std::shared_ptr<nn::Module> head_;
};

}  // namespace loom::archs
