// The Fashion-MNIST converter: read and check the IDX files, write the HDF5 layout atomically.
#include "fashion_mnist.hpp"

#include <cmath>
#include <filesystem>
#include <vector>

#include "h5_output.hpp"
#include "idx.hpp"
#include "loom/check.hpp"
#include "loom/io/hdf5.hpp"

namespace loom::datasets {

namespace fs = std::filesystem;

IdxSplit read_idx_split(const std::string& images_file, const std::string& labels_file, std::int64_t num_classes) {
  Tensor images = read_idx_images(images_file);
  Tensor labels = read_idx_labels(labels_file);
  if (images.size(0) != labels.size(0))
    LOOM_THROW(IOError, "{} and {}: expected as many labels as images, found {} images and {} labels", images_file,
               labels_file, images.size(0), labels.size(0));
  const std::uint8_t* l = labels.data_ptr<std::uint8_t>();
  for (std::int64_t i = 0; i < labels.size(0); ++i)
    if (l[i] >= num_classes)
      LOOM_THROW(IOError, "{}: label {} at index {}: expected a class index in 0..{}", labels_file, int{l[i]}, i,
                 num_classes - 1);
  return {images.view({images.size(0), 1, images.size(1), images.size(2)}), labels.to(DType::Int64)};
}

PixelStats pixel_stats(const Tensor& images) {
  // A histogram keeps the sums exact whatever the count.
  std::array<std::uint64_t, 256> histogram{};
  const Tensor flat = images.contiguous();
  const std::uint8_t* p = flat.data_ptr<std::uint8_t>();
  for (std::int64_t i = 0; i < flat.numel(); ++i) ++histogram[p[i]];
  const auto n = static_cast<double>(flat.numel());
  if (n == 0) return {};
  double sum = 0;
  for (int v = 0; v < 256; ++v) sum += static_cast<double>(histogram[v]) * v / 255.0;
  const double mean = sum / n;
  double squares = 0;
  for (int v = 0; v < 256; ++v) squares += static_cast<double>(histogram[v]) * std::pow(v / 255.0 - mean, 2);
  return {mean, std::sqrt(squares / n)};
}

namespace {

void write_split(io::H5File& f, const std::string& split, const IdxSplit& data, const PixelStats& stats,
                 const std::vector<std::string>& class_names) {
  const std::string images = "/" + split + "/images";
  f.write_tensor(images, data.images, {.compression = 4, .chunks = {1024, 1, data.images.size(2), data.images.size(3)}});
  f.write_tensor("/" + split + "/labels", data.labels);
  f.write_double_attribute(images, "mean", stats.mean);
  f.write_double_attribute(images, "std", stats.std);
  f.write_string_list_attribute("/" + split, "class_names", class_names);
}

}  // namespace

ConversionSummary convert_fashion_mnist(const std::string& source_dir, const std::string& output) {
  const std::int64_t classes = kFashionMnistClasses.size();
  const auto file = [&](const char* name) { return (fs::path(source_dir) / name).string(); };
  const IdxSplit train = read_idx_split(file("train-images-idx3-ubyte.gz"), file("train-labels-idx1-ubyte.gz"), classes);
  const IdxSplit test = read_idx_split(file("t10k-images-idx3-ubyte.gz"), file("t10k-labels-idx1-ubyte.gz"), classes);
  const PixelStats stats = pixel_stats(train.images);
  const std::vector<std::string> class_names(kFashionMnistClasses.begin(), kFashionMnistClasses.end());

  const std::uintmax_t bytes = write_h5_atomically(output, [&](io::H5File& f) {
    write_split(f, "train", train, stats, class_names);
    write_split(f, "test", test, stats, class_names);
    f.write_string_list_attribute("/", "class_names", class_names);
    f.write_string_attribute("/", "source",
                             fmt::format("Debian package dataset-fashion-mnist: {}/{{train,t10k}}-{{images-idx3,labels-idx1}}-ubyte.gz "
                                         "(Zalando Research, MIT licence)", source_dir));
  });
  return {train.images.size(0), test.images.size(0), stats, bytes};
}

}  // namespace loom::datasets
