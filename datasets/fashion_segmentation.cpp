// Fashion-MNIST composites for segmentation: canvas composition and the HDF5 write.
#include "fashion_segmentation.hpp"

#include <filesystem>
#include <vector>

#include "fashion_mnist.hpp"
#include "h5_output.hpp"
#include "loom/check.hpp"
#include "loom/io/hdf5.hpp"
#include "loom/philox.hpp"

namespace loom::datasets {

namespace {

// Random integers for one canvas: Philox words at counters [base, base + 64), where base is
// unique per (split, canvas). A canvas uses at most 1 + 3·kMaxItems draws.
class CanvasRandom {
 public:
  CanvasRandom(std::uint64_t seed, std::uint64_t split_id, std::int64_t canvas)
      : key_{seed, (split_id << 56) | (static_cast<std::uint64_t>(canvas) << 6)} {}
  // Uniform in [0, n): 64 random bits modulo n (the bias, below n / 2^64, is negligible).
  std::int64_t below(std::int64_t n) {
    const Philox4 w = philox_bits(key_, next_++);
    const std::uint64_t bits = (std::uint64_t(w.v[0]) << 32) | w.v[1];
    return static_cast<std::int64_t>(bits % static_cast<std::uint64_t>(n));
  }

 private:
  PhiloxKey key_;
  std::uint64_t next_ = 0;
};

std::uint64_t split_id(const std::string& split) {
  LOOM_CHECK(split == "train" || split == "test", ValueError,
             "compose_canvases: expected split \"train\" or \"test\", found \"{}\"", split);
  return split == "train" ? 0 : 1;
}

void check_inputs(const Tensor& items, const Tensor& labels, std::int64_t count, const SegmentationOptions& o) {
  LOOM_CHECK(items.dim() == 4 && items.size(1) == 1 && items.size(2) <= kCanvasSize &&
                 items.size(3) <= kCanvasSize && items.dtype() == DType::UInt8 && items.size(0) > 0,
             ShapeError, "compose_canvases: expected items (M > 0, 1, H ≤ {0}, W ≤ {0}) uint8, found {1} {2}",
             kCanvasSize, items.sizes().str(), dtype_name(items.dtype()));
  LOOM_CHECK(labels.dim() == 1 && labels.size(0) == items.size(0) && labels.dtype() == DType::Int64, ShapeError,
             "compose_canvases: expected labels ({}) int64, found {} {}", items.size(0), labels.sizes().str(),
             dtype_name(labels.dtype()));
  LOOM_CHECK(count >= 0, ValueError, "compose_canvases: expected a canvas count ≥ 0, found {}", count);
  LOOM_CHECK(1 <= o.min_items && o.min_items <= o.max_items && o.max_items <= kMaxItems, ValueError,
             "compose_canvases: expected 1 ≤ min_items ≤ max_items ≤ {}, found min_items {} and max_items {}",
             kMaxItems, o.min_items, o.max_items);
  LOOM_CHECK(0 <= o.threshold && o.threshold < 255, ValueError,
             "compose_canvases: expected a threshold in 0..254, found {}", o.threshold);
}

}  // namespace

SegmentationSplit compose_canvases(const Tensor& items, const Tensor& labels, std::int64_t count,
                                   const std::string& split, const SegmentationOptions& options) {
  const std::uint64_t stream = split_id(split);
  check_inputs(items, labels, count, options);
  const Tensor item_pixels = items.contiguous();
  const std::vector<std::int64_t> item_labels = labels.to_vector<std::int64_t>();
  for (std::size_t i = 0; i < item_labels.size(); ++i)
    LOOM_CHECK(item_labels[i] >= 0 && item_labels[i] < 10, ValueError,
               "compose_canvases: expected labels in 0..9, found {} at index {}", item_labels[i], i);
  const std::int64_t num_items = items.size(0), h = items.size(2), w = items.size(3);
  const std::int64_t plane = kCanvasSize * kCanvasSize;
  const std::uint8_t* source = item_pixels.data_ptr<std::uint8_t>();

  std::vector<std::uint8_t> images(static_cast<std::size_t>(count * plane), 0);
  std::vector<std::int64_t> masks(images.size(), 0);
  std::vector<std::int64_t> sources(static_cast<std::size_t>(count * kMaxItems), -1);
  std::vector<std::int64_t> positions(static_cast<std::size_t>(count * kMaxItems * 2), -1);
  for (std::int64_t c = 0; c < count; ++c) {
    CanvasRandom random(options.seed, stream, c);
    const std::int64_t n = options.min_items + random.below(options.max_items - options.min_items + 1);
    std::uint8_t* image = images.data() + c * plane;
    std::int64_t* mask = masks.data() + c * plane;
    for (std::int64_t k = 0; k < n; ++k) {
      const std::int64_t index = random.below(num_items);
      const std::int64_t top = random.below(kCanvasSize - h + 1), left = random.below(kCanvasSize - w + 1);
      sources[static_cast<std::size_t>(c * kMaxItems + k)] = index;
      positions[static_cast<std::size_t>((c * kMaxItems + k) * 2)] = top;
      positions[static_cast<std::size_t>((c * kMaxItems + k) * 2 + 1)] = left;
      const std::int64_t label = item_labels[static_cast<std::size_t>(index)] + 1;
      const std::uint8_t* pixels = source + index * h * w;
      // Later items are pasted over earlier ones: occlusion is the drawing order.
      for (std::int64_t y = 0; y < h; ++y)
        for (std::int64_t x = 0; x < w; ++x)
          if (pixels[y * w + x] > options.threshold) {
            const std::int64_t at = (top + y) * kCanvasSize + left + x;
            image[at] = pixels[y * w + x];
            mask[at] = label;
          }
    }
  }
  return {from_vector(images, Shape{count, 1, kCanvasSize, kCanvasSize}),
          from_vector(masks, Shape{count, kCanvasSize, kCanvasSize}),
          from_vector(sources, Shape{count, kMaxItems}), from_vector(positions, Shape{count, kMaxItems, 2})};
}

namespace {

struct FashionSplit {
  Tensor images, labels;
};

FashionSplit read_fashion_split(const io::H5File& f, const std::string& split) {
  return {f.read_tensor("/" + split + "/images", DType::UInt8, 4), f.read_tensor("/" + split + "/labels", DType::Int64, 1)};
}

void write_split(io::H5File& f, const std::string& split, const SegmentationSplit& data, const PixelStats& stats,
                 const std::vector<std::string>& class_names) {
  const std::string group = "/" + split;
  // 256 canvases a chunk: 1 MiB of images, read whole by a streaming HDF5Dataset.
  f.write_tensor(group + "/images", data.images, {.compression = 4, .chunks = {256, 1, kCanvasSize, kCanvasSize}});
  f.write_tensor(group + "/masks", data.masks, {.compression = 4, .chunks = {256, kCanvasSize, kCanvasSize}});
  f.write_tensor(group + "/sources", data.sources);
  f.write_tensor(group + "/positions", data.positions);
  f.write_double_attribute(group + "/images", "mean", stats.mean);
  f.write_double_attribute(group + "/images", "std", stats.std);
  f.write_string_list_attribute(group, "class_names", class_names);
}

double foreground_fraction(const Tensor& masks) {
  const std::int64_t* m = masks.data_ptr<std::int64_t>();
  std::int64_t on = 0;
  for (std::int64_t i = 0; i < masks.numel(); ++i) on += m[i] != 0;
  return masks.numel() > 0 ? static_cast<double>(on) / static_cast<double>(masks.numel()) : 0.0;
}

}  // namespace

SegmentationSummary make_fashion_segmentation(const std::string& fashion_mnist, const std::string& output,
                                              const SegmentationOptions& options) {
  LOOM_CHECK(options.train_canvases > 0 && options.test_canvases > 0, ValueError,
             "make_fashion_segmentation: expected positive canvas counts, found {} train and {} test",
             options.train_canvases, options.test_canvases);
  io::H5File in(fashion_mnist);
  const FashionSplit train_items = read_fashion_split(in, "train"), test_items = read_fashion_split(in, "test");
  std::vector<std::string> class_names = {"background"};
  for (const std::string& name : in.read_string_list_attribute("/", "class_names")) class_names.push_back(name);
  LOOM_CHECK(class_names.size() == 11, IOError, "{}: /: expected 10 class_names, found {}", fashion_mnist,
             class_names.size() - 1);
  in.close();

  const SegmentationSplit train =
      compose_canvases(train_items.images, train_items.labels, options.train_canvases, "train", options);
  const SegmentationSplit test =
      compose_canvases(test_items.images, test_items.labels, options.test_canvases, "test", options);
  const PixelStats stats = pixel_stats(train.images);

  const std::uintmax_t bytes = write_h5_atomically(output, [&](io::H5File& f) {
    write_split(f, "train", train, stats, class_names);
    write_split(f, "test", test, stats, class_names);
    f.write_string_list_attribute("/", "class_names", class_names);
    f.write_string_attribute("/", "source",
                             fmt::format("Fashion-MNIST composites made by fashion_segmentation_to_h5 from {}",
                                         fashion_mnist));
    f.write_uint_attribute("/", "seed", options.seed);
    f.write_int_attribute("/", "threshold", options.threshold);
    f.write_int_attribute("/", "min_items", options.min_items);
    f.write_int_attribute("/", "max_items", options.max_items);
  });
  return {options.train_canvases, options.test_canvases, stats.mean, stats.std, foreground_fraction(train.masks),
          bytes};
}

}  // namespace loom::datasets
