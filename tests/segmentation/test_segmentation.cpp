// The segmentation pieces of issue 8, without training: the "unet" plugin's config errors
// (built by name, so the plugin is loaded from the build tree) and the Fashion-MNIST composite
// generator on a small source file written by the test, whose items are random patterns.
// The canvases are recomposed here from the recorded sources and positions, independently of
// the generator, so any difference in occlusion order, labels or item choice fails.
#include <doctest/doctest.h>

#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "common/test_helpers.hpp"
#include "fashion_segmentation.hpp"
#include "io/helpers.hpp"
#include "loom/data/hdf5_dataset.hpp"
#include "loom/io/hdf5.hpp"
#include "loom/nn/registry.hpp"
#include "loom/tensor_ops.hpp"

using loom::DType;
using loom::Shape;
using loom::Tensor;
using loom_io_test::TempDir;
using loom_test::contains;
using loom_test::message_of;
namespace ds = loom::datasets;

// ---- unet: configs it cannot build ---------------------------------------------------------------
TEST_CASE("unet: an input too small for its depth is a ValueError naming the size and the config") {
  const std::string message = message_of<loom::ValueError>(
      [] { loom::nn::build({{"type", "unet"}, {"input_size", 4}, {"depth", 3}}); });
  CHECK(contains(message, "input height 4 is too small for depth 3"));
  CHECK(contains(message, "at least 8 pixels"));
  CHECK(contains(message, "input_size 4x4"));
  CHECK(contains(message, "base_channels 16"));
}

TEST_CASE("unet: an input not divisible by 2^depth is a ValueError naming the dim and the factor") {
  const std::string message = message_of<loom::ValueError>(
      [] { loom::nn::build({{"type", "unet"}, {"input_size", {64, 60}}, {"depth", 3}}); });
  CHECK(contains(message, "input width 60 is not divisible by 2^depth = 8"));
  CHECK(contains(message, "input_size 64x60"));
  // 60 = 4 · 15 is fine for two halvings.
  CHECK_NOTHROW(loom::nn::build({{"type", "unet"}, {"input_size", {64, 60}}, {"depth", 2}}));
  // The smallest input a depth takes: one pixel at the bottom.
  CHECK_NOTHROW(loom::nn::build({{"type", "unet"}, {"input_size", 8}, {"depth", 3}, {"base_channels", 2}}));
}

TEST_CASE("unet: other bad options are ValueErrors naming the option") {
  CHECK(contains(message_of<loom::ValueError>([] { loom::nn::build({{"type", "unet"}, {"depth", 0}}); }),
                 "expected depth in 1..16, found 0"));
  CHECK(contains(message_of<loom::ValueError>([] { loom::nn::build({{"type", "unet"}, {"dropout", 1.0}}); }),
                 "expected dropout in [0, 1), found 1"));
  CHECK(contains(message_of<loom::ValueError>([] { loom::nn::build({{"type", "unet"}, {"decoder", "pixelshuffle"}}); }),
                 "'decoder' must be one of"));
  CHECK(contains(message_of<loom::ValueError>([] { loom::nn::build({{"type", "unet"}, {"width", 16}}); }),
                 "unknown option 'width'"));
}

TEST_CASE("unet: forward checks the input it is given") {
  auto model = loom::nn::build({{"type", "unet"}, {"input_size", 16}, {"depth", 2}, {"base_channels", 2}});
  CHECK(model->forward(loom::zeros({2, 1, 16, 16})).sizes() == Shape{2, 11, 16, 16});
  CHECK(model->forward(loom::zeros({1, 1, 8, 12})).sizes() == Shape{1, 11, 8, 12});  // fully convolutional
  CHECK(contains(message_of<loom::ShapeError>([&] { model->forward(loom::zeros({1, 1, 16, 18})); }),
                 "divisible by 2^depth = 4 (depth 2), found input (1, 1, 16, 18)"));
  CHECK(contains(message_of<loom::ShapeError>([&] { model->forward(loom::zeros({1, 3, 16, 16})); }),
                 "expected input (N, 1, H, W), found (1, 3, 16, 16)"));
}

// ---- the composite generator ---------------------------------------------------------------------
namespace {

constexpr int kItem = 28;

// Random items: each pixel is 0 (half of them) or 1..255, so some foreground pixels fall at or
// below the threshold and must not be pasted.
struct Items {
  std::vector<std::uint8_t> pixels;  // (M, 28, 28)
  std::vector<std::int64_t> labels;  // (M)
};

Items random_items(std::int64_t count, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Items items;
  for (std::int64_t i = 0; i < count * kItem * kItem; ++i)
    items.pixels.push_back(rng() % 2 ? static_cast<std::uint8_t>(1 + rng() % 255) : 0);
  for (std::int64_t i = 0; i < count; ++i) items.labels.push_back(static_cast<std::int64_t>(rng() % 10));
  return items;
}

void write_fake_fashion(const std::string& path, const Items& train, const Items& test) {
  loom::io::H5File f(path, loom::io::FileMode::Truncate);
  for (const auto& [split, items] : {std::pair<std::string, const Items&>{"train", train}, {"test", test}}) {
    const auto n = static_cast<std::int64_t>(items.labels.size());
    f.write_tensor("/" + split + "/images", loom::from_vector(items.pixels, Shape{n, 1, kItem, kItem}));
    f.write_tensor("/" + split + "/labels", loom::from_vector(items.labels, Shape{n}));
  }
  std::vector<std::string> names;
  for (int c = 0; c < 10; ++c) names.push_back("class " + std::to_string(c));
  f.write_string_list_attribute("/", "class_names", names);
}

// The canvas and mask the recorded items make when pasted in order (foreground > threshold).
void recompose(const Items& items, const std::vector<std::int64_t>& sources, const std::vector<std::int64_t>& positions,
               std::int64_t canvas, int threshold, std::vector<std::uint8_t>& image, std::vector<std::int64_t>& mask) {
  image.assign(64 * 64, 0);
  mask.assign(64 * 64, 0);
  for (std::int64_t k = 0; k < ds::kMaxItems; ++k) {
    const std::int64_t source = sources[static_cast<std::size_t>(canvas * 4 + k)];
    if (source < 0) break;
    const std::int64_t top = positions[static_cast<std::size_t>((canvas * 4 + k) * 2)];
    const std::int64_t left = positions[static_cast<std::size_t>((canvas * 4 + k) * 2 + 1)];
    for (int y = 0; y < kItem; ++y)
      for (int x = 0; x < kItem; ++x) {
        const std::uint8_t v = items.pixels[static_cast<std::size_t>((source * kItem + y) * kItem + x)];
        if (v <= threshold) continue;
        image[static_cast<std::size_t>((top + y) * 64 + left + x)] = v;
        mask[static_cast<std::size_t>((top + y) * 64 + left + x)] = items.labels[static_cast<std::size_t>(source)] + 1;
      }
  }
}

}  // namespace

TEST_CASE("the generator writes canvases of 2-4 items of their own split, later items on top") {
  TempDir dir;
  const Items train = random_items(40, 1), test = random_items(25, 2);
  write_fake_fashion(dir.file("fashion.h5"), train, test);
  const ds::SegmentationOptions options{.train_canvases = 60, .test_canvases = 30, .seed = 7, .threshold = 10};
  const std::string out = dir.file("segmentation.h5");
  const ds::SegmentationSummary summary = ds::make_fashion_segmentation(dir.file("fashion.h5"), out, options);
  CHECK(summary.train == 60);
  CHECK(summary.test == 30);
  CHECK(summary.foreground > 0.1);
  CHECK(summary.foreground < 0.9);

  loom::io::H5File f(out);
  std::vector<std::string> names = {"background"};
  for (int c = 0; c < 10; ++c) names.push_back("class " + std::to_string(c));
  CHECK(f.read_string_list_attribute("/", "class_names") == names);
  for (const auto& [split, items, n] : {std::tuple<std::string, const Items&, std::int64_t>{"train", train, 60},
                                        {"test", test, 30}}) {
    CAPTURE(split);
    CHECK(f.read_string_list_attribute("/" + split, "class_names") == names);
    const loom::io::DatasetInfo image_info = f.dataset_info("/" + split + "/images");
    const loom::io::DatasetInfo mask_info = f.dataset_info("/" + split + "/masks");
    CHECK(image_info.sizes == Shape{n, 1, 64, 64});
    CHECK(image_info.type == "uint8");
    CHECK(mask_info.sizes == Shape{n, 64, 64});
    CHECK(!image_info.chunks.empty());
    CHECK(image_info.compression > 0);
    CHECK(!mask_info.chunks.empty());
    CHECK(mask_info.compression > 0);
    const auto images = f.read_tensor("/" + split + "/images").to(DType::Int64).to_vector<std::int64_t>();
    const auto masks = f.read_tensor("/" + split + "/masks").to_vector<std::int64_t>();
    const auto sources = f.read_tensor("/" + split + "/sources", DType::Int64, 2).to_vector<std::int64_t>();
    const auto positions = f.read_tensor("/" + split + "/positions", DType::Int64, 3).to_vector<std::int64_t>();
    std::set<std::int64_t> counts;
    std::vector<std::uint8_t> image;
    std::vector<std::int64_t> mask;
    for (std::int64_t c = 0; c < n; ++c) {
      CAPTURE(c);
      std::int64_t count = 0;
      while (count < 4 && sources[static_cast<std::size_t>(c * 4 + count)] >= 0) ++count;
      counts.insert(count);
      REQUIRE(count >= 2);
      for (std::int64_t k = 0; k < 4; ++k) {
        const std::int64_t source = sources[static_cast<std::size_t>(c * 4 + k)];
        const std::int64_t top = positions[static_cast<std::size_t>((c * 4 + k) * 2)];
        const std::int64_t left = positions[static_cast<std::size_t>((c * 4 + k) * 2 + 1)];
        if (k < count) {
          // A source index of this split's items (the other split has a different size).
          REQUIRE(source < static_cast<std::int64_t>(items.labels.size()));
          REQUIRE((top >= 0 && top <= 36 && left >= 0 && left <= 36));
        } else {
          REQUIRE((source == -1 && top == -1 && left == -1));
        }
      }
      recompose(items, sources, positions, c, options.threshold, image, mask);
      for (std::size_t p = 0; p < image.size(); ++p) {
        const std::int64_t label = masks[static_cast<std::size_t>(c) * image.size() + p];
        REQUIRE((label >= 0 && label <= 10));
        // The pixels the items of this split paint, with the label of the topmost one.
        REQUIRE(images[static_cast<std::size_t>(c) * image.size() + p] == image[p]);
        REQUIRE(label == mask[p]);
        REQUIRE((label != 0) == (image[p] > options.threshold));
      }
    }
    CHECK(counts == std::set<std::int64_t>{2, 3, 4});
  }

  // HDF5Dataset reads the file as a segmentation split: (1, 64, 64) inputs, (64, 64) int64 masks.
  const loom::data::HDF5Dataset dataset(out, "test", {.target = loom::data::Target::Masks, .normalize = false});
  CHECK(dataset.size() == 30);
  CHECK(dataset.class_names() == names);
  const loom::data::Example example = dataset.get(3);
  CHECK(example.input.sizes() == Shape{1, 64, 64});
  CHECK(example.target.dtype() == DType::Int64);
  CHECK(loom::equal(example.target, f.read_tensor("/test/masks").select(0, 3)));
}

TEST_CASE("a canvas depends only on (seed, split, index)") {
  const Items items = random_items(30, 3);
  const Tensor pixels = loom::from_vector(items.pixels, Shape{30, 1, kItem, kItem});
  const Tensor labels = loom::from_vector(items.labels, Shape{30});
  const ds::SegmentationOptions seed1{.seed = 1}, seed2{.seed = 2};
  const ds::SegmentationSplit a = ds::compose_canvases(pixels, labels, 20, "train", seed1);
  const ds::SegmentationSplit b = ds::compose_canvases(pixels, labels, 5, "train", seed1);
  CHECK(loom::equal(a.images.slice(0, 0, 5), b.images));
  CHECK(loom::equal(a.sources.slice(0, 0, 5), b.sources));
  CHECK_FALSE(loom::equal(a.sources, ds::compose_canvases(pixels, labels, 20, "train", seed2).sources));
  CHECK_FALSE(loom::equal(a.sources, ds::compose_canvases(pixels, labels, 20, "test", seed1).sources));
}

TEST_CASE("the generator's bad inputs are errors naming them") {
  const Tensor pixels = loom::zeros({3, 1, kItem, kItem}, DType::UInt8);
  const Tensor labels = loom::zeros({3}, DType::Int64);
  CHECK(contains(message_of<loom::ValueError>([&] { ds::compose_canvases(pixels, labels, 1, "val", {}); }),
                 "expected split \"train\" or \"test\", found \"val\""));
  CHECK(contains(message_of<loom::ValueError>(
                     [&] { ds::compose_canvases(pixels, labels, 1, "train", {.min_items = 3, .max_items = 2}); }),
                 "min_items 3 and max_items 2"));
  CHECK(contains(message_of<loom::ShapeError>([&] { ds::compose_canvases(pixels, loom::zeros({2}, DType::Int64), 1, "train", {}); }),
                 "expected labels (3) int64, found (2,) int64"));
  CHECK(contains(message_of<loom::ValueError>([&] {
                   ds::compose_canvases(pixels, loom::full({3}, 10, DType::Int64), 1, "train", {});
                 }),
                 "expected labels in 0..9, found 10 at index 0"));
  TempDir dir;
  CHECK(contains(message_of<loom::IOError>([&] {
                   ds::make_fashion_segmentation(dir.file("missing.h5"), dir.file("out.h5"), {});
                 }),
                 "missing.h5"));
  CHECK_FALSE(std::filesystem::exists(dir.file("out.h5")));
}
