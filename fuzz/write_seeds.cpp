// Writes the HDF5 seeds of the fuzz corpora (fuzz/README.md): small files in Loom's dataset
// layouts (images, token streams, sequence pairs) and a current-format checkpoint, each a few KB
// so that libFuzzer mutates them quickly.
//   build/fuzz/fuzz_write_seeds fuzz/corpus
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "loom/io/checkpoint.hpp"
#include "loom/io/hdf5.hpp"
#include "loom/nn.hpp"
#include "loom/optim/scheduler.hpp"
#include "loom/optim/sgd.hpp"
#include "loom/tensor_ops.hpp"

namespace fs = std::filesystem;
using loom::DType;
using loom::io::H5File;

namespace {

loom::Tensor pixels(loom::Shape sizes) { return loom::randint(0, 256, sizes).to(DType::UInt8); }

void write_datasets(const fs::path& dir) {
  fs::create_directories(dir);
  {  // uint8 images, int64 labels, class names: what fashion_mnist_to_h5 writes, in small
    H5File f((dir / "uint8_labels.h5").string(), loom::io::FileMode::Truncate);
    f.write_tensor("/train/images", pixels({6, 1, 4, 4}));
    f.write_tensor("/train/labels", loom::randint(0, 3, {6}));
    f.write_string_list_attribute("/", "class_names", {"a", "b", "c"});
  }
  {  // chunked gzip float32 images with mean and std (streamed chunk by chunk)
    H5File f((dir / "float32_gzip_normalized.h5").string(), loom::io::FileMode::Truncate);
    f.write_tensor("/train/images", loom::rand({6, 3, 4, 4}), {.compression = 4, .shuffle = true, .chunks = {2, 3, 4, 4}});
    f.write_tensor("/train/labels", loom::randint(0, 2, {6}), {.compression = 4});
    f.write_string_list_attribute("/train", "class_names", {"no", "yes"});
    f.write_double_attribute("/train/images", "mean", 0.5);
    f.write_double_attribute("/train/images", "std", 0.25);
  }
  {  // segmentation: masks beside the images, uint8 labels (as h5py writes them)
    H5File f((dir / "masks_checksum.h5").string(), loom::io::FileMode::Truncate);
    f.write_tensor("/train/images", pixels({4, 1, 4, 4}), {.checksum = true});
    f.write_tensor("/train/masks", loom::randint(0, 2, {4, 4, 4}), {.checksum = true});
    f.write_tensor("/train/labels", loom::randint(0, 2, {4}).to(DType::UInt8));
  }
}

void write_sequences(const fs::path& dir) {
  fs::create_directories(dir);
  {  // a token stream: uint8 ids, a vocabulary with <unk> (what char_corpus_to_h5 writes, in small)
    H5File f((dir / "token_stream.h5").string(), loom::io::FileMode::Truncate);
    f.write_tensor("/train/tokens", loom::randint(0, 6, {40}).to(DType::UInt8), {.compression = 4});
    f.write_string_list_attribute("/", "vocabulary", {"<unk>", "\n", " ", "%", "a", "\xC3\xA9"});
    f.write_int_attribute("/", "unk_id", 0);
  }
  {  // sequence pairs: padded sources, <bos> ... <eos> targets (what seq2seq_digits_to_h5 writes)
    H5File f((dir / "pairs.h5").string(), loom::io::FileMode::Truncate);
    f.write_tensor("/train/source", loom::from_vector<std::int64_t>({4, 5, 0, 6, 0, 0}, {2, 3}).to(DType::UInt8));
    f.write_tensor("/train/target", loom::from_vector<std::int64_t>({1, 5, 4, 2, 0, 1, 6, 2, 0, 0}, {2, 5}));
    f.write_string_list_attribute("/", "vocabulary", {"<pad>", "<bos>", "<eos>", "0", "1", "2", "3"});
    f.write_int_attribute("/", "pad_id", 0);
    f.write_int_attribute("/", "bos_id", 1);
    f.write_int_attribute("/", "eos_id", 2);
  }
}

void write_checkpoint(const fs::path& dir) {
  fs::create_directories(dir);
  auto model = loom::nn::build({{"type", "linear"}, {"in_features", 3}, {"out_features", 2}});
  loom::optim::SGD sgd(model->parameters(), {.lr = 0.1, .momentum = 0.9});
  loom::optim::StepLR step(sgd, {.step_size = 2, .gamma = 0.5});
  sgd.zero_grad();
  loom::F::mse_loss((*model)(loom::randn({4, 3})), loom::randn({4, 2})).backward();
  sgd.step();
  step.step();
  loom::io::save_checkpoint((dir / "checkpoint_v3.h5").string(), *model, &sgd, &step, 1, "linear",
                            R"({"lr": 0.1})", {{"val_accuracy", 0.5}});
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_write_seeds <corpus folder>\n");
    return 2;
  }
  loom::manual_seed(15);
  write_datasets(fs::path(argv[1]) / "hdf5_dataset");
  write_sequences(fs::path(argv[1]) / "sequence_datasets");
  write_checkpoint(fs::path(argv[1]) / "checkpoint");
  fmt::print("fuzz_write_seeds: wrote the HDF5 seeds under {}\n", argv[1]);
  return 0;
}
