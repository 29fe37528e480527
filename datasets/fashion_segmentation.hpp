#pragma once
// A segmentation set made from real images: each 64×64 canvas holds 2–4 Fashion-MNIST items
// (28×28) at random positions, drawn in order so that later items occlude earlier ones, with a
// per-pixel label 0 = background, 1 + class for an item's pixels (1..10). Train canvases are made
// only of train images and test canvases only of test images, so a model evaluated on the test
// canvases has never seen their items.
//
// An item's pixels are its foreground: intensities above `threshold`. Only those are pasted, so
// every canvas pixel is either 0 (background) or a pixel of the item its label names, and
// image > threshold exactly where the mask is non-zero.
//
// Layout (Loom's dataset layout, DESIGN §4; HDF5Dataset reads it with Target::Masks):
//   /<split>/images    (N, 1, 64, 64) uint8, chunks of 256 rows, gzip 4; mean, std (train canvases)
//   /<split>/masks     (N, 64, 64) int64, 0..10, chunked and gzipped likewise (HDF5Dataset's
//                      masks are int64; mostly zeros, they compress well)
//   /<split>/sources   (N, 4) int64: indices of the items in the Fashion-MNIST file's same split,
//                      in drawing order; -1 after the last item
//   /<split>/positions (N, 4, 2) int64: each item's top-left (row, column) on the canvas; -1 unused
//   class_names (on / and on each split): "background", then the 10 Fashion-MNIST classes;
//   on /: source, seed, threshold, min_items, max_items
//
// Randomness: Philox keyed by the seed, with a counter range per (split, canvas), so a canvas
// depends only on (seed, split, index) — not on the counts or the order of generation.
#include <cstdint>
#include <string>

#include "loom/tensor.hpp"

namespace loom::datasets {

inline constexpr std::int64_t kCanvasSize = 64;
inline constexpr std::int64_t kMaxItems = 4;

struct SegmentationOptions {
  std::int64_t train_canvases = 40000;
  std::int64_t test_canvases = 2000;
  std::uint64_t seed = 1;
  std::int64_t min_items = 2;  // items per canvas, uniform in [min_items, max_items]
  std::int64_t max_items = 4;  // at most kMaxItems
  int threshold = 10;          // foreground: intensity > threshold (0..254)
};

// One split of canvases (see the layout above for the shapes).
struct SegmentationSplit {
  Tensor images;     // (N, 1, 64, 64) uint8
  Tensor masks;      // (N, 64, 64) int64
  Tensor sources;    // (N, 4) int64
  Tensor positions;  // (N, 4, 2) int64
};

// Composes `count` canvases from items (M, 1, 28, 28) uint8 with labels (M) int64 in 0..9.
// `split` ("train", "test") keys the random stream. Errors (ValueError, ShapeError) name the
// option or input and what was expected.
SegmentationSplit compose_canvases(const Tensor& items, const Tensor& labels, std::int64_t count,
                                   const std::string& split, const SegmentationOptions& options);

struct SegmentationSummary {
  std::int64_t train = 0, test = 0;  // canvases per split
  double train_mean = 0, train_std = 0;
  double foreground = 0;  // fraction of train pixels that belong to an item
  std::uintmax_t bytes = 0;
};

// Reads the Fashion-MNIST HDF5 file (datasets/fashion-mnist.h5 layout) and writes `output`,
// atomically: to "<output>.tmp-<pid>" first, then renamed.
SegmentationSummary make_fashion_segmentation(const std::string& fashion_mnist, const std::string& output,
                                              const SegmentationOptions& options);

}  // namespace loom::datasets
