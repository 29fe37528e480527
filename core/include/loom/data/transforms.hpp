#pragma once
// Per-example transforms (augmentation, normalisation), run by the DataLoader's workers.
//
// ```cpp
// auto train = std::make_shared<loom::data::HDF5Dataset>("datasets/fashion-mnist.h5", "train");
// auto augment = loom::data::compose({loom::data::random_crop(28, 4), loom::data::horizontal_flip(),
//                                     loom::data::normalize({0.2860}, {0.3530})});
// loom::data::DataLoader loader(train, {.batch_size = 128, .shuffle = true, .seed = 1}, nullptr, augment);
// ```
//
// Inputs are float32 images (C, H, W) on the CPU. Geometric transforms (crop, flip) move a
// target that is a mask of the same (H, W) with the image, so segmentation data stays aligned.
// Every random choice comes from a SampleRandom made from (seed, epoch, example index): the
// same augmentation for any worker count and in a resumed run.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "loom/data/dataset.hpp"
#include "loom/export.hpp"
#include "loom/philox.hpp"

namespace loom::data {

// The random numbers of one example in one epoch; successive calls give successive numbers.
class LOOM_API SampleRandom {
 public:
  SampleRandom(std::uint64_t seed, std::int64_t epoch, std::int64_t index);
  double uniform();                                         // [0, 1)
  double uniform(double low, double high);                  // [low, high)
  std::int64_t integer(std::int64_t low, std::int64_t high);  // [low, high], both included
  bool bernoulli(double p);

 private:
  PhiloxKey key_;
  std::uint64_t counter_ = 0;
};

class LOOM_API Transform {
 public:
  virtual ~Transform();
  // May modify and return the example's tensors (they belong to this example only).
  virtual Example apply(Example example, SampleRandom& random) const = 0;
  virtual std::string str() const = 0;  // "RandomCrop(size=28, padding=4)"
};

using TransformPtr = std::shared_ptr<const Transform>;

// Applies the transforms in order.
LOOM_API TransformPtr compose(std::vector<TransformPtr> transforms);
// (x - mean[c]) / std[c] per channel; one value applies to every channel.
LOOM_API TransformPtr normalize(std::vector<double> mean, std::vector<double> std);
// Pads every side with `padding` pixels of `fill`, then crops a random size×size window
// (torchvision's RandomCrop(size, padding)). A mask target is padded with `mask_fill`.
LOOM_API TransformPtr random_crop(std::int64_t size, std::int64_t padding = 0, double fill = 0.0,
                                  std::int64_t mask_fill = 0);
// Mirrors left-right with probability p.
LOOM_API TransformPtr horizontal_flip(double p = 0.5);
// x ← (x - m)·c + m + b with b uniform in [-brightness, brightness] and c uniform in
// [1 - contrast, 1 + contrast], m the image mean (per example, all channels): torchvision's
// ColorJitter brightness/contrast in additive form, for images already scaled to [0, 1].
LOOM_API TransformPtr brightness_contrast(double brightness, double contrast);
// With probability p, fills one random rectangle with `value` (Zhong et al. 2017; torchvision
// RandomErasing): area a fraction in [scale_min, scale_max] of the image, aspect ratio
// log-uniform in [ratio_min, ratio_max]; up to 10 tries to fit, else nothing.
LOOM_API TransformPtr random_erasing(double p = 0.5, double scale_min = 0.02, double scale_max = 0.33,
                                     double ratio_min = 0.3, double ratio_max = 3.3, double value = 0.0);

}  // namespace loom::data
