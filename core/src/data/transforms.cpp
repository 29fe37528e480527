// Per-example transforms: plain loops over contiguous float32 (C, H, W) data. They run on the
// DataLoader's worker threads, so they only allocate (loom::empty) and never dispatch an op to
// a backend, whose thread pool belongs to the training loop; and they stay well under the
// ~10 µs per image that 100,000 images/s on two workers leaves.
#include "loom/data/transforms.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string_view>
#include <type_traits>
#include <utility>

#include "data_internal.hpp"
#include "loom/check.hpp"

namespace loom::data {
namespace {

// Each example gets 2^20 Philox counters of its own, far more than any transform draws.
constexpr int kCountersPerExampleLog2 = 20;

// The image as contiguous float32 (C, H, W) on the CPU, or an error naming the transform.
Tensor checked_image(const Tensor& input, std::string_view transform) {
  LOOM_CHECK(input.defined(), ValueError,
             "{}: expected a float32 image (C, H, W), found an undefined tensor", transform);
  LOOM_CHECK(input.dtype() == DType::Float32, DTypeError,
             "{}: expected a float32 image (C, H, W), found dtype {}", transform,
             dtype_name(input.dtype()));
  LOOM_CHECK(input.device().type == DeviceType::CPU, DeviceError,
             "{}: expected an image on cpu, found one on {}", transform, input.device().str());
  LOOM_CHECK(input.dim() == 3, ShapeError,
             "{}: expected an image of shape (C, H, W), found shape {}", transform, input.sizes().str());
  return input.is_contiguous() ? input : input.contiguous();
}

// A target of the image's (H, W) is a mask: geometric transforms move it with the image.
bool is_mask_of(const Tensor& target, const Tensor& image) {
  return target.defined() && target.dim() == 2 && target.size(0) == image.size(1) &&
         target.size(1) == image.size(2);
}

// Calls f with a null T* for the element type T of dtype t (masks may be of any dtype).
template <typename F>
void with_element_type(DType t, F&& f) {
  switch (t) {
    case DType::Bool: f(static_cast<bool*>(nullptr)); return;
    case DType::UInt8: f(static_cast<std::uint8_t*>(nullptr)); return;
    case DType::Int64: f(static_cast<std::int64_t*>(nullptr)); return;
    case DType::Float32: f(static_cast<float*>(nullptr)); return;
    case DType::Float64: f(static_cast<double*>(nullptr)); return;
  }
}

template <typename T>
T* elements(const Tensor& t) {
  return static_cast<T*>(t.raw_data());
}

// src: (planes, H, W) → dst: (planes, size, size), the window whose top-left corner is at
// (top, left) in src coordinates (negative or past the edge: padding, filled with `fill`).
template <typename T>
void crop_planes(const T* src, T* dst, std::int64_t planes, std::int64_t H, std::int64_t W,
                 std::int64_t size, std::int64_t top, std::int64_t left, T fill) {
  // Columns [x0, x1) of every in-bounds row come from the image; the rest is padding.
  const std::int64_t x0 = std::clamp<std::int64_t>(-left, 0, size);
  const std::int64_t x1 = std::clamp<std::int64_t>(W - left, x0, size);
  for (std::int64_t p = 0; p < planes; ++p) {
    const T* plane = src + p * H * W;
    for (std::int64_t y = 0; y < size; ++y, dst += size) {
      const std::int64_t sy = top + y;
      if (sy < 0 || sy >= H) {
        std::fill_n(dst, size, fill);
        continue;
      }
      std::fill_n(dst, x0, fill);
      std::memcpy(dst + x0, plane + sy * W + left + x0, static_cast<std::size_t>(x1 - x0) * sizeof(T));
      std::fill_n(dst + x1, size - x1, fill);
    }
  }
}

template <typename T>
void flip_rows(T* data, std::int64_t rows, std::int64_t W) {
  for (std::int64_t r = 0; r < rows; ++r) std::reverse(data + r * W, data + (r + 1) * W);
}

// The mask as a contiguous CPU tensor that this example may write into.
Tensor checked_mask(const Tensor& mask, std::string_view transform) {
  LOOM_CHECK(mask.device().type == DeviceType::CPU, DeviceError,
             "{}: expected a mask target on cpu, found one on {}", transform, mask.device().str());
  return mask.is_contiguous() ? mask : mask.contiguous();
}

std::string list_str(const std::vector<double>& values) {
  std::string s = "[";
  for (std::size_t i = 0; i < values.size(); ++i) s += (i ? ", " : "") + fmt::format("{}", values[i]);
  return s + "]";
}

// ---- compose --------------------------------------------------------------------------------

class Compose final : public Transform {
 public:
  explicit Compose(std::vector<TransformPtr> transforms) : transforms_(std::move(transforms)) {
    for (std::size_t i = 0; i < transforms_.size(); ++i)
      LOOM_CHECK(transforms_[i] != nullptr, ValueError,
                 "compose: expected non-null transforms, found null at position {}", i);
  }
  Example apply(Example example, SampleRandom& random) const override {
    for (const auto& t : transforms_) example = t->apply(std::move(example), random);
    return example;
  }
  std::string str() const override {
    std::string s = "Compose(";
    for (std::size_t i = 0; i < transforms_.size(); ++i) s += (i ? ", " : "") + transforms_[i]->str();
    return s + ")";
  }

 private:
  std::vector<TransformPtr> transforms_;
};

// ---- normalize ------------------------------------------------------------------------------

class Normalize final : public Transform {
 public:
  Normalize(std::vector<double> mean, std::vector<double> std) : mean_(std::move(mean)), std_(std::move(std)) {
    LOOM_CHECK(!mean_.empty() && !std_.empty(), ValueError,
               "normalize: expected at least one mean and one std, found {} and {}", mean_.size(), std_.size());
    LOOM_CHECK(mean_.size() == std_.size() || mean_.size() == 1 || std_.size() == 1, ValueError,
               "normalize: mean has {} values and std {}; expected equal counts or one of them 1",
               mean_.size(), std_.size());
    for (std::size_t i = 0; i < std::max(mean_.size(), std_.size()); ++i) {
      const double m = mean_[mean_.size() == 1 ? 0 : i], s = std_[std_.size() == 1 ? 0 : i];
      LOOM_CHECK(std::isfinite(m) && std::isfinite(s) && s != 0, ValueError,
                 "normalize: expected finite means and finite non-zero stds, found mean {} and std {} "
                 "for channel {}", m, s, i);
      shift_.push_back(static_cast<float>(m));
      scale_.push_back(static_cast<float>(1.0 / s));
    }
  }
  Example apply(Example example, SampleRandom&) const override {
    Tensor image = checked_image(example.input, "Normalize");
    const std::int64_t C = image.size(0), plane = image.size(1) * image.size(2);
    const auto n = static_cast<std::int64_t>(scale_.size());
    LOOM_CHECK(n == 1 || n == C, ValueError,
               "Normalize: mean and std have {} values; expected 1 or the image's {} channels (shape {})",
               n, C, image.sizes().str());
    float* x = image.data_ptr<float>();
    for (std::int64_t c = 0; c < C; ++c) {
      const float shift = shift_[n == 1 ? 0 : c], scale = scale_[n == 1 ? 0 : c];
      float* p = x + c * plane;
      for (std::int64_t i = 0; i < plane; ++i) p[i] = (p[i] - shift) * scale;
    }
    image.bump_version();
    example.input = std::move(image);
    return example;
  }
  std::string str() const override {
    return "Normalize(mean=" + list_str(mean_) + ", std=" + list_str(std_) + ")";
  }

 private:
  std::vector<double> mean_, std_;
  std::vector<float> shift_, scale_;  // per channel (or one for all): x ← (x - shift)·scale
};

// ---- random crop ----------------------------------------------------------------------------

class RandomCrop final : public Transform {
 public:
  RandomCrop(std::int64_t size, std::int64_t padding, double fill, std::int64_t mask_fill)
      : size_(size), padding_(padding), fill_(fill), mask_fill_(mask_fill) {
    LOOM_CHECK(size > 0, ValueError, "random_crop: expected size > 0, found {}", size);
    LOOM_CHECK(padding >= 0, ValueError, "random_crop: expected padding ≥ 0, found {}", padding);
  }
  Example apply(Example example, SampleRandom& random) const override {
    Tensor image = checked_image(example.input, "RandomCrop");
    const std::int64_t C = image.size(0), H = image.size(1), W = image.size(2);
    LOOM_CHECK(size_ <= H + 2 * padding_ && size_ <= W + 2 * padding_, ValueError,
               "RandomCrop: crop size {} does not fit in image (H, W) = ({}, {}) padded by {} on "
               "each side to ({}, {})", size_, H, W, padding_, H + 2 * padding_, W + 2 * padding_);
    // Corner of the window in image coordinates: padding lies at -padding..-1 and H..H+padding-1.
    const std::int64_t top = random.integer(0, H + 2 * padding_ - size_) - padding_;
    const std::int64_t left = random.integer(0, W + 2 * padding_ - size_) - padding_;
    Tensor out = empty({C, size_, size_}, DType::Float32);
    crop_planes<float>(image.data_ptr<float>(), out.data_ptr<float>(), C, H, W, size_, top, left,
                       static_cast<float>(fill_));
    if (is_mask_of(example.target, image)) {
      Tensor mask = checked_mask(example.target, "RandomCrop");
      Tensor cropped = empty({size_, size_}, TensorOptions(mask.dtype(), mask.device()));
      with_element_type(mask.dtype(), [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        crop_planes<T>(elements<T>(mask), elements<T>(cropped), 1, H, W, size_, top, left,
                       static_cast<T>(mask_fill_));
      });
      example.target = std::move(cropped);
    }
    example.input = std::move(out);
    return example;
  }
  std::string str() const override {
    std::string s = fmt::format("RandomCrop(size={}, padding={}", size_, padding_);
    if (fill_ != 0.0) s += fmt::format(", fill={}", fill_);
    if (mask_fill_ != 0) s += fmt::format(", mask_fill={}", mask_fill_);
    return s + ")";
  }

 private:
  std::int64_t size_, padding_;
  double fill_;
  std::int64_t mask_fill_;
};

// ---- horizontal flip ------------------------------------------------------------------------

class HorizontalFlip final : public Transform {
 public:
  explicit HorizontalFlip(double p) : p_(p) {
    LOOM_CHECK(p >= 0.0 && p <= 1.0, ValueError, "horizontal_flip: expected p in [0, 1], found {}", p);
  }
  Example apply(Example example, SampleRandom& random) const override {
    Tensor image = checked_image(example.input, "HorizontalFlip");
    if (!random.bernoulli(p_)) return example;
    const std::int64_t W = image.size(2);
    flip_rows(image.data_ptr<float>(), image.size(0) * image.size(1), W);
    image.bump_version();
    if (is_mask_of(example.target, image)) {
      Tensor mask = checked_mask(example.target, "HorizontalFlip");
      with_element_type(mask.dtype(), [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        flip_rows(elements<T>(mask), mask.size(0), W);
      });
      mask.bump_version();
      example.target = std::move(mask);
    }
    example.input = std::move(image);
    return example;
  }
  std::string str() const override { return fmt::format("HorizontalFlip(p={})", p_); }

 private:
  double p_;
};

// ---- brightness / contrast ------------------------------------------------------------------

class BrightnessContrast final : public Transform {
 public:
  BrightnessContrast(double brightness, double contrast) : brightness_(brightness), contrast_(contrast) {
    LOOM_CHECK(brightness >= 0.0 && std::isfinite(brightness), ValueError,
               "brightness_contrast: expected a finite brightness ≥ 0, found {}", brightness);
    LOOM_CHECK(contrast >= 0.0 && contrast <= 1.0, ValueError,
               "brightness_contrast: expected contrast in [0, 1] (a factor in [1 - contrast, 1 + "
               "contrast] stays ≥ 0), found {}", contrast);
  }
  Example apply(Example example, SampleRandom& random) const override {
    Tensor image = checked_image(example.input, "BrightnessContrast");
    const double b = random.uniform(-brightness_, brightness_);
    const double c = random.uniform(1.0 - contrast_, 1.0 + contrast_);
    const std::int64_t n = image.numel();
    float* x = image.data_ptr<float>();
    double sum = 0.0;
    for (std::int64_t i = 0; i < n; ++i) sum += x[i];
    const double m = n > 0 ? sum / static_cast<double>(n) : 0.0;
    // (x - m)·c + m + b as one multiply-add per pixel.
    const auto scale = static_cast<float>(c), shift = static_cast<float>(m * (1.0 - c) + b);
    for (std::int64_t i = 0; i < n; ++i) x[i] = x[i] * scale + shift;
    image.bump_version();
    example.input = std::move(image);
    return example;
  }
  std::string str() const override {
    return fmt::format("BrightnessContrast(brightness={}, contrast={})", brightness_, contrast_);
  }

 private:
  double brightness_, contrast_;
};

// ---- random erasing -------------------------------------------------------------------------

class RandomErasing final : public Transform {
 public:
  RandomErasing(double p, double scale_min, double scale_max, double ratio_min, double ratio_max, double value)
      : p_(p), scale_min_(scale_min), scale_max_(scale_max), ratio_min_(ratio_min), ratio_max_(ratio_max),
        value_(value) {
    LOOM_CHECK(p >= 0.0 && p <= 1.0, ValueError, "random_erasing: expected p in [0, 1], found {}", p);
    LOOM_CHECK(scale_min > 0.0 && scale_min <= scale_max && scale_max <= 1.0, ValueError,
               "random_erasing: expected 0 < scale_min ≤ scale_max ≤ 1, found scale_min {} and scale_max {}",
               scale_min, scale_max);
    LOOM_CHECK(ratio_min > 0.0 && ratio_min <= ratio_max && std::isfinite(ratio_max), ValueError,
               "random_erasing: expected 0 < ratio_min ≤ ratio_max, found ratio_min {} and ratio_max {}",
               ratio_min, ratio_max);
  }
  Example apply(Example example, SampleRandom& random) const override {
    Tensor image = checked_image(example.input, "RandomErasing");
    if (!random.bernoulli(p_)) return example;
    const std::int64_t C = image.size(0), H = image.size(1), W = image.size(2);
    const double area = static_cast<double>(H * W);
    const double log_ratio_min = std::log(ratio_min_), log_ratio_max = std::log(ratio_max_);
    for (int attempt = 0; attempt < 10; ++attempt) {  // torchvision's rejection loop
      const double erase_area = area * random.uniform(scale_min_, scale_max_);
      const double ratio = std::exp(random.uniform(log_ratio_min, log_ratio_max));
      const auto h = static_cast<std::int64_t>(std::lround(std::sqrt(erase_area * ratio)));
      const auto w = static_cast<std::int64_t>(std::lround(std::sqrt(erase_area / ratio)));
      if (!(h < H && w < W)) continue;
      const std::int64_t top = random.integer(0, H - h), left = random.integer(0, W - w);
      float* x = image.data_ptr<float>();
      for (std::int64_t c = 0; c < C; ++c)
        for (std::int64_t y = top; y < top + h; ++y)
          std::fill_n(x + (c * H + y) * W + left, w, static_cast<float>(value_));
      image.bump_version();
      example.input = std::move(image);
      return example;
    }
    return example;
  }
  std::string str() const override {
    return fmt::format("RandomErasing(p={}, scale=[{}, {}], ratio=[{}, {}], value={})", p_, scale_min_,
                       scale_max_, ratio_min_, ratio_max_, value_);
  }

 private:
  double p_, scale_min_, scale_max_, ratio_min_, ratio_max_, value_;
};

}  // namespace

// ---- SampleRandom -------------------------------------------------------------------------------

SampleRandom::SampleRandom(std::uint64_t seed, std::int64_t epoch, std::int64_t index)
    : key_{detail::mix64(detail::mix64(seed) ^ detail::mix64(~static_cast<std::uint64_t>(epoch))),
           static_cast<std::uint64_t>(index) << kCountersPerExampleLog2} {
  LOOM_CHECK(index >= 0, IndexError, "SampleRandom: expected an example index ≥ 0, found {}", index);
}

double SampleRandom::uniform() {
  const Philox4 r = philox_bits(key_, counter_++);
  return philox_unit_double(r.v[0], r.v[1]);
}

double SampleRandom::uniform(double low, double high) { return low + (high - low) * uniform(); }

std::int64_t SampleRandom::integer(std::int64_t low, std::int64_t high) {
  LOOM_CHECK(low <= high, ValueError, "SampleRandom::integer: expected low ≤ high, found [{}, {}]", low, high);
  const auto k = static_cast<std::int64_t>(uniform() * (static_cast<double>(high - low) + 1.0));
  return low + std::min(k, high - low);
}

bool SampleRandom::bernoulli(double p) { return uniform() < p; }

Transform::~Transform() = default;

TransformPtr compose(std::vector<TransformPtr> transforms) {
  return std::make_shared<Compose>(std::move(transforms));
}
TransformPtr normalize(std::vector<double> mean, std::vector<double> std) {
  return std::make_shared<Normalize>(std::move(mean), std::move(std));
}
TransformPtr random_crop(std::int64_t size, std::int64_t padding, double fill, std::int64_t mask_fill) {
  return std::make_shared<RandomCrop>(size, padding, fill, mask_fill);
}
TransformPtr horizontal_flip(double p) { return std::make_shared<HorizontalFlip>(p); }
TransformPtr brightness_contrast(double brightness, double contrast) {
  return std::make_shared<BrightnessContrast>(brightness, contrast);
}
TransformPtr random_erasing(double p, double scale_min, double scale_max, double ratio_min, double ratio_max,
                            double value) {
  return std::make_shared<RandomErasing>(p, scale_min, scale_max, ratio_min, ratio_max, value);
}

}  // namespace loom::data
