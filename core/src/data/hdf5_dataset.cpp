#include "loom/data/hdf5_dataset.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "chunk_stream.hpp"
#include "data_internal.hpp"
#include "loom/check.hpp"
#include "loom/error.hpp"
#include "loom/io/hdf5.hpp"

namespace loom::data {
namespace {

// MemAvailable from /proc/meminfo in bytes (0 when unknown).
std::int64_t available_memory() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  std::int64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  return 0;
}

[[noreturn]] void layout_error(const std::string& file, const std::string& path, const std::string& what) {
  throw IOError(fmt::format("{}: {}: {} (Loom's dataset layout: /<split>/images (N, C, H, W) uint8 or float32, "
                            "/<split>/labels (N) integers, optional /<split>/masks (N, H, W) integers)",
                            file, path, what));
}

std::string describe(const io::DatasetInfo& info) { return fmt::format("{} {}", info.sizes.str(), info.type); }

// Any integer type (h5py writes uint8 labels as readily as int64): read as int64.
bool is_integer_type(const io::DatasetInfo& info) {
  return info.type.starts_with("int") || info.type.starts_with("uint");
}

// Every label a class index: ≥ 0, and below the number of class names when the file names them.
// The first that is not names the file, the split and its index.
void check_labels(const std::string& file, const std::string& split, const std::string& path, const Tensor& labels,
                  std::size_t classes) {
  const std::int64_t* values = labels.data_ptr<std::int64_t>();
  const auto limit = static_cast<std::int64_t>(classes);
  for (std::int64_t i = 0; i < labels.numel(); ++i) {
    if (values[i] >= 0 && (classes == 0 || values[i] < limit)) continue;
    const std::string expected =
        classes == 0 ? std::string("labels ≥ 0 (class indices)")
                     : fmt::format("labels in [0, {}) (one per class name)", classes);
    throw IOError(fmt::format("{}: {}: expected {}, found {} at index {} of split '{}'", file, path, expected,
                              values[i], i, split));
  }
}

// Bytes of an n-row split, or -1 when that does not fit in 63 bits.
std::int64_t split_bytes(std::int64_t n, std::int64_t bytes_per_row) {
  std::int64_t out = 0;
  return __builtin_mul_overflow(n, bytes_per_row, &out) ? -1 : out;
}

// mean/std: a scalar or a per-channel array attribute on the images dataset.
std::vector<double> channel_statistic(const io::H5File& f, const std::string& images, const char* name,
                                      std::int64_t channels) {
  if (!f.has_attribute(images, name)) return {};
  std::vector<double> values;
  try {
    values = f.read_double_list_attribute(images, name);
  } catch (const IOError& e) {
    throw IOError(fmt::format("{} (the normalisation attribute '{}')", e.what(), name));
  }
  if (values.size() != 1 && static_cast<std::int64_t>(values.size()) != channels)
    layout_error(f.path(), images,
                 fmt::format("attribute '{}' has {} values, expected 1 or one per channel ({})", name, values.size(),
                             channels));
  return values;
}

}  // namespace

struct HDF5Dataset::State {
  std::string file, split, group, images_path, labels_path, masks_path;
  HDF5DatasetOptions options;
  std::int64_t n = 0, chunk_rows = 0;
  Shape image_shape;  // (C, H, W)
  DType stored = DType::UInt8;
  Target target = Target::Labels;
  std::vector<std::string> class_names;
  std::vector<double> mean, std;
  std::vector<float> scale, shift;  // per channel: x · scale + shift

  Tensor images, masks;  // in memory: the whole split as stored
  Tensor labels;         // (N) int64, always in memory when present
  std::unique_ptr<detail::ChunkStream> stream;

  void decode_into(const Tensor& rows, std::int64_t row, float* dst) const;
  void check_index(const std::string& name, std::int64_t index) const {
    LOOM_CHECK(index >= 0 && index < n, IndexError, "{}: index {} out of range [0, {})", name, index, n);
  }
};

// Row `row` of `rows` (as stored) into dst as float32 (C, H, W): uint8 scaled to [0, 1], then
// normalised.
void HDF5Dataset::State::decode_into(const Tensor& rows, std::int64_t row, float* dst) const {
  const std::int64_t c = image_shape[0], plane = image_shape[1] * image_shape[2];
  for (std::int64_t ch = 0; ch < c; ++ch) {
    const float a = scale[static_cast<std::size_t>(ch)], b = shift[static_cast<std::size_t>(ch)];
    float* d = dst + ch * plane;
    if (stored == DType::UInt8) {
      const std::uint8_t* s = rows.data_ptr<std::uint8_t>() + (row * c + ch) * plane;
      for (std::int64_t i = 0; i < plane; ++i) d[i] = float(s[i]) * a + b;
    } else {
      const float* s = rows.data_ptr<float>() + (row * c + ch) * plane;
      for (std::int64_t i = 0; i < plane; ++i) d[i] = s[i] * a + b;
    }
  }
}

namespace {
// Float pixels that are NaN or infinite would train to chance without a word: refused, naming
// the first one (`pixels` holds `images` images from image `first_image` of the split on). The
// decoded pixels of a streamed batch are checked in place: x · scale + shift with a finite
// scale > 0 keeps NaN NaN and ±Inf infinite.
void check_finite_pixels(const std::string& file, const std::string& images_path, const std::string& split,
                         const float* pixels, std::int64_t images, std::int64_t per_image, std::int64_t first_image) {
  for (std::int64_t i = 0; i < images * per_image; ++i)
    if (!std::isfinite(pixels[i]))
      throw IOError(fmt::format("{}: {}: image {} of split '{}' holds the pixel {} (element {} of the image): "
                                "expected finite values", file, images_path, first_image + i / per_image, split,
                                pixels[i], i % per_image));
}
}  // namespace

HDF5Dataset::HDF5Dataset(const std::string& file, const std::string& split, HDF5DatasetOptions options)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.file = file;
  s.split = split;
  s.options = options;
  s.group = "/" + split;
  s.images_path = s.group + "/images";
  s.labels_path = s.group + "/labels";
  s.masks_path = s.group + "/masks";
  LOOM_CHECK(options.cache_chunks >= 2, ValueError, "HDF5Dataset({}): expected cache_chunks ≥ 2, found {}", file,
             options.cache_chunks);

  io::H5File f(file);
  if (!f.is_group(s.group)) {
    const auto groups = f.groups("/");
    layout_error(file, s.group, fmt::format("no such split; the file has: {}", groups.empty() ? "no groups" : fmt::format("{}", fmt::join(groups, ", "))));
  }
  if (!f.is_dataset(s.images_path)) layout_error(file, s.images_path, "missing");
  const io::DatasetInfo images = f.dataset_info(s.images_path);
  if (images.sizes.size() != 4) layout_error(file, s.images_path, fmt::format("expected (N, C, H, W), found {}", describe(images)));
  if (images.dtype != DType::UInt8 && images.dtype != DType::Float32)
    layout_error(file, s.images_path, fmt::format("expected uint8 or float32 images, found {}", describe(images)));
  s.stored = *images.dtype;
  s.n = images.sizes[0];
  s.image_shape = Shape{images.sizes[1], images.sizes[2], images.sizes[3]};

  const bool has_labels = f.is_dataset(s.labels_path), has_masks = f.is_dataset(s.masks_path);
  s.target = options.target;
  if (s.target == Target::Auto) s.target = has_labels || !has_masks ? Target::Labels : Target::Masks;
  if (s.target == Target::Labels) {
    if (!has_labels) layout_error(file, s.labels_path, "missing (the targets of a classification split)");
    const io::DatasetInfo labels = f.dataset_info(s.labels_path);
    if (labels.sizes.size() != 1 || !is_integer_type(labels))
      layout_error(file, s.labels_path, fmt::format("expected (N) integer labels, found {}", describe(labels)));
    if (labels.sizes[0] != s.n)
      layout_error(file, s.labels_path,
                   fmt::format("expected one label per image ({}), found {} labels", s.n, labels.sizes[0]));
    s.labels = f.read_tensor(s.labels_path).to(DType::Int64).contiguous();
  } else {
    if (!has_masks) layout_error(file, s.masks_path, "missing (the targets of a segmentation split)");
    const io::DatasetInfo masks = f.dataset_info(s.masks_path);
    if (masks.sizes.size() != 3 || !is_integer_type(masks) || masks.sizes[0] != s.n ||
        masks.sizes[1] != s.image_shape[1] || masks.sizes[2] != s.image_shape[2])
      layout_error(file, s.masks_path,
                   fmt::format("expected ({}, {}, {}) int64 masks for images {}, found {}", s.n, s.image_shape[1],
                               s.image_shape[2], images.sizes.str(), describe(masks)));
    if (has_labels) s.labels = f.read_tensor(s.labels_path).to(DType::Int64).contiguous();
  }

  for (const std::string& where : {s.group, std::string("/")})
    if (s.class_names.empty() && f.has_attribute(where, "class_names"))
      s.class_names = f.read_string_list_attribute(where, "class_names");
  if (s.labels.defined()) check_labels(file, split, s.labels_path, s.labels, s.class_names.size());

  const std::int64_t channels = s.image_shape[0];
  if (options.normalize) {
    s.mean = channel_statistic(f, s.images_path, "mean", channels);
    s.std = channel_statistic(f, s.images_path, "std", channels);
    if (s.mean.empty() != s.std.empty())
      layout_error(file, s.images_path, "has only one of the normalisation attributes 'mean' and 'std'");
    for (double sd : s.std)
      if (!(sd > 0 && std::isfinite(sd)))
        layout_error(file, s.images_path, fmt::format("attribute 'std' must be finite and > 0, found {}", sd));
    for (double m : s.mean)  // a NaN mean makes every pixel NaN: training runs and reaches 10 %
      if (!std::isfinite(m)) layout_error(file, s.images_path, fmt::format("attribute 'mean' must be finite, found {}", m));
  }
  const double to_unit = s.stored == DType::UInt8 ? 1.0 / 255.0 : 1.0;
  for (std::int64_t c = 0; c < channels; ++c) {
    const double m = s.mean.empty() ? 0.0 : s.mean[s.mean.size() == 1 ? 0 : std::size_t(c)];
    const double sd = s.std.empty() ? 1.0 : s.std[s.std.size() == 1 ? 0 : std::size_t(c)];
    s.scale.push_back(float(to_unit / sd));
    s.shift.push_back(float(-m / sd));
  }

  s.chunk_rows = images.chunks.empty() ? s.n : images.chunks[0];
  const std::int64_t bytes_per_row =
      s.image_shape.numel() * std::int64_t(itemsize(s.stored)) +
      (s.target == Target::Masks ? s.image_shape[1] * s.image_shape[2] * 8 : 0);
  const std::int64_t bytes = split_bytes(s.n, bytes_per_row), available = available_memory();
  bool in_memory = options.storage == Storage::Memory;
  if (options.storage == Storage::Auto) in_memory = bytes >= 0 && (available == 0 || bytes < available / 2);
  if (in_memory && (bytes < 0 || (available > 0 && bytes > available)))
    throw IOError(fmt::format("{}: {}: {} images {} need {} bytes in memory, {} are available: read it with "
                              "Storage::Stream (or Auto)", file, s.images_path, s.n, s.image_shape.str(),
                              bytes < 0 ? std::string("more than 2^63") : std::to_string(bytes), available));
  if (in_memory) {
    s.images = f.read_tensor(s.images_path);
    if (s.stored == DType::Float32)
      check_finite_pixels(file, s.images_path, split, s.images.data_ptr<float>(), s.n, s.image_shape.numel(), 0);
    if (s.target == Target::Masks) s.masks = f.read_tensor(s.masks_path).to(DType::Int64);  // any integer type
  } else {
    if (images.chunks.empty())  // contiguous storage: read about 1 MiB at a time
      s.chunk_rows = std::max<std::int64_t>(1, (std::int64_t(1) << 20) / std::max<std::int64_t>(bytes_per_row, 1));
    f.close();
    s.stream = std::make_unique<detail::ChunkStream>(file, s.images_path,
                                                     s.target == Target::Masks ? s.masks_path : std::string(), s.n,
                                                     s.chunk_rows, options.cache_chunks);
  }
}

HDF5Dataset::~HDF5Dataset() = default;

std::int64_t HDF5Dataset::size() const { return state_->n; }

Example HDF5Dataset::get(std::int64_t index) const {
  const std::int64_t one[1] = {index};
  const Example batch = *get_batch(one);
  return {batch.input.squeeze(0), batch.target.squeeze(0)};
}

std::optional<Example> HDF5Dataset::get_batch(std::span<const std::int64_t> indices) const {
  const State& s = *state_;
  for (std::int64_t index : indices) s.check_index(name(), index);
  const auto count = static_cast<std::int64_t>(indices.size());
  Example batch;
  batch.input = empty(Shape{count, s.image_shape[0], s.image_shape[1], s.image_shape[2]}, TensorOptions(DType::Float32));
  float* dst = batch.input.data_ptr<float>();
  const std::int64_t image = s.image_shape.numel();
  if (s.target == Target::Labels) batch.target = detail::gather_rows(s.labels, indices);
  std::int64_t* masks = nullptr;
  const std::int64_t plane = s.image_shape[1] * s.image_shape[2];
  if (s.target == Target::Masks) {
    batch.target = empty(Shape{count, s.image_shape[1], s.image_shape[2]}, TensorOptions(DType::Int64));
    masks = batch.target.data_ptr<std::int64_t>();
  }
  if (!s.stream) {
    // The rows of a shuffled batch are scattered over the split: ask for all of their cache
    // lines first, so the misses overlap instead of stalling one after another (~2x faster).
    const auto* base = static_cast<const char*>(s.images.raw_data());
    const std::int64_t row_bytes = image * std::int64_t(itemsize(s.stored));
    for (std::int64_t index : indices)
      for (std::int64_t at = 0; at < row_bytes; at += 64) __builtin_prefetch(base + index * row_bytes + at);
  }
  for (std::int64_t i = 0; i < count; ++i) {
    const std::int64_t index = indices[static_cast<std::size_t>(i)];
    std::shared_ptr<const detail::Chunk> chunk;  // keeps a streamed chunk alive while it is read
    const Tensor* images = &s.images;
    const Tensor* mask_rows = &s.masks;
    std::int64_t row = index;
    if (s.stream) {
      chunk = s.stream->chunk_of(index);
      images = &chunk->images;
      mask_rows = &chunk->masks;
      row = index - chunk->first_row;
    }
    s.decode_into(*images, row, dst + i * image);
    if (s.stream && s.stored == DType::Float32)
      check_finite_pixels(s.file, s.images_path, s.split, dst + i * image, 1, image, index);
    if (masks) {
      // Masks of any stored integer type are int64 once read (here and in the chunk stream).
      std::memcpy(masks + i * plane, mask_rows->data_ptr<std::int64_t>() + row * plane,
                  sizeof(std::int64_t) * std::size_t(plane));
    }
  }
  return batch;
}

void HDF5Dataset::will_need(std::span<const std::int64_t> indices) const {
  if (state_->stream) state_->stream->prefetch(indices);
}

std::string HDF5Dataset::name() const { return fmt::format("{}:{}", state_->file, state_->group); }
Tensor HDF5Dataset::labels() const { return state_->labels; }
Shape HDF5Dataset::image_shape() const { return state_->image_shape; }
DType HDF5Dataset::stored_dtype() const { return state_->stored; }
bool HDF5Dataset::streaming() const { return state_->stream != nullptr; }
std::int64_t HDF5Dataset::chunk_rows() const { return state_->chunk_rows; }
const std::vector<std::string>& HDF5Dataset::class_names() const { return state_->class_names; }
std::vector<double> HDF5Dataset::mean() const { return state_->mean; }
std::vector<double> HDF5Dataset::std() const { return state_->std; }

}  // namespace loom::data
