// loom — the command-line tool.
//   loom plugins   every plugin file found: name, kind, version, path, registered names;
//                  shadowed and refused files with the reason
//   loom info      version, plugin API version, backends, threads, BLAS and oneDNN versions
//   loom summary <spec.json> --input C,H,W
//                  builds the model of a JSON spec and prints its per-layer summary: output
//                  shape, parameters, receptive field, multiply-adds ("?" where a layer does
//                  not state them)
//   loom data inspect <file.h5>
//                  each split of a dataset file (DESIGN §4 layout): shapes, dtypes, storage,
//                  class names and counts, masks, normalisation; checks the layout on the way.
//                  Sequence files (token streams, sequence pairs): the vocabulary, token
//                  counts, row lengths
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <map>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "loom/backend.hpp"
#include "loom/data/hdf5_dataset.hpp"
#include "loom/data/seq2seq_dataset.hpp"
#include "loom/data/token_stream_dataset.hpp"
#include "loom/io/hdf5.hpp"
#include "loom/json.hpp"
#include "loom/nn/registry.hpp"
#include "loom/nn/summary.hpp"
#include "loom/plugin.hpp"
#include "loom/runtime.hpp"

namespace {

int print_usage(std::FILE* to) {
  fmt::print(to,
             "usage: loom <command>\n"
             "  plugins   list the plugins found, with their status, path and registered names\n"
             "  info      version, plugin API version, backends, threads, BLAS and oneDNN versions\n"
             "  summary <spec.json> --input C,H,W\n"
             "            the per-layer summary of a model spec: output shapes, parameters,\n"
             "            receptive fields, multiply-adds\n"
             "  data inspect <file.h5>\n"
             "            each split of a dataset: shapes, dtypes, storage, class names and counts\n"
             "            (sequence files: vocabulary, tokens, row lengths)\n");
  return to == stdout ? 0 : 2;
}

int plugins() {
  fmt::print("plugin search path:\n");
  for (const auto& f : loom::plugin_search_path())
    fmt::print("  {} ({}{})\n", f.path, f.origin, f.exists ? "" : ", missing");
  const auto records = loom::plugin_records();
  fmt::print("\n{} plugin file(s):\n", records.size());
  for (const auto& r : records) {
    if (r.status == loom::PluginStatus::Loaded) {
      fmt::print("  {:<10} {:<8} {:<8} {}\n", r.name, r.kind, r.version, r.path);
      fmt::print("  {:<10} registers: {}\n", "", fmt::join(r.provides, ", "));
    } else {
      fmt::print("  {:<10} {:<8} {}\n    {}\n", loom::plugin_status_name(r.status),
                 r.name.empty() ? "?" : r.name, r.path, r.reason);
    }
  }
  return 0;
}

int info() {
  for (const auto& [key, value] : loom::runtime_info()) fmt::print("{:<22} {}\n", key, value);
  return 0;
}

// "1,28,28" → {1, 28, 28}
loom::Shape parse_shape(const std::string& text) {
  loom::Shape shape;
  std::size_t at = 0;
  while (at <= text.size()) {
    const std::size_t comma = text.find(',', at);
    const std::string part = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    std::size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(part, &used);
    } catch (const std::exception&) {
    }
    if (used != part.size() || v <= 0)
      throw loom::ValueError("loom summary: --input expects positive sizes like 1,28,28, found '" + text + "'");
    shape.push_back(v);
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return shape;
}

int summary(int argc, char** argv) {
  if (argc != 5 || std::strcmp(argv[3], "--input") != 0) return print_usage(stderr);
  std::ifstream file(argv[2]);
  if (!file) throw loom::IOError(std::string("loom summary: cannot open spec file '") + argv[2] + "'");
  auto model = loom::nn::build(loom::read_json(file, std::string("loom summary: ") + argv[2]));
  fmt::print("{}", loom::nn::summary(*model, parse_shape(argv[4])).str());
  return 0;
}

// ---- loom data inspect ----

// "(1024, 1, 28, 28) gzip 4 + shuffle", "contiguous", ...
std::string storage(const loom::io::DatasetInfo& info) {
  std::string out = info.chunks.empty() ? "contiguous" : "chunks " + info.chunks.str();
  out += info.compression > 0 ? fmt::format(", gzip {}", info.compression) : ", no compression";
  if (info.shuffle) out += " + shuffle";
  for (const auto& f : info.other_filters) out += " + " + f;
  return out;
}

// An attribute as text: a number, or strings joined by ", "; what went wrong otherwise.
std::string attribute_text(const loom::io::H5File& f, const std::string& object, const std::string& name) {
  try {
    return fmt::format("{:.6g}", f.read_double_attribute(object, name));
  } catch (const loom::IOError&) {
  }
  try {
    return fmt::format("{}", fmt::join(f.read_string_list_attribute(object, name), ", "));
  } catch (const loom::IOError&) {
    return "(not a number or strings)";
  }
}

// 60000 → "60,000"
std::string with_commas(std::int64_t n) {
  std::string digits = std::to_string(n);
  for (int at = static_cast<int>(digits.size()) - 3; at > (n < 0 ? 1 : 0); at -= 3) digits.insert(static_cast<std::size_t>(at), ",");
  return digits;
}

// One line per dataset of a split: name, shape, dtype, storage; its count is checked against `rows`.
loom::io::DatasetInfo print_dataset(const loom::io::H5File& f, const std::string& path, std::int64_t rows) {
  const auto info = f.dataset_info(path);
  if (rows >= 0 && (info.sizes.empty() || info.sizes[0] != rows))
    throw loom::IOError(fmt::format("{}: {}: expected {} rows (as many as images), found shape {}", f.path(), path,
                                    rows, info.sizes.str()));
  fmt::print("  {:<7} {:<20} {:<8} {}\n", path.substr(path.rfind('/') + 1), info.sizes.str(), info.type, storage(info));
  return info;
}

void inspect_split(const loom::io::H5File& f, const std::string& split) {
  fmt::print("{}\n", split);
  const std::string images = split + "/images", labels = split + "/labels";
  const auto info = print_dataset(f, images, -1);
  if (info.sizes.size() != 4 || (info.type != "uint8" && info.type != "float32"))
    throw loom::IOError(fmt::format("{}: {}: expected (N, C, H, W) uint8 or float32, found {} {}", f.path(), images,
                                    info.sizes.str(), info.type));
  for (const auto& name : f.attributes(images)) fmt::print("  {:<7} {} = {}\n", "", name, attribute_text(f, images, name));
  // Targets: labels (classification) and/or masks (segmentation); counts of samples per label,
  // or of pixels per class when the split has masks only.
  const std::string masks = split + "/masks";
  const bool has_labels = f.is_dataset(labels), has_masks = f.is_dataset(masks);
  if (!has_labels && !has_masks)
    throw loom::IOError(fmt::format("{}: {}: no such dataset (expected (N,) int64 labels, or (N, H, W) masks at {})",
                                    f.path(), labels, masks));
  if (has_labels) print_dataset(f, labels, info.sizes[0]);
  if (has_masks) print_dataset(f, masks, info.sizes[0]);
  const std::string counted = has_labels ? labels : masks;
  std::map<std::int64_t, std::int64_t> counts;
  constexpr std::int64_t kRowsPerRead = 512;  // masks can be large: count them a block at a time
  for (std::int64_t first = 0; first < info.sizes[0]; first += kRowsPerRead) {
    const loom::Tensor block =
        f.read_rows(counted, first, std::min(kRowsPerRead, info.sizes[0] - first)).to(loom::DType::Int64).contiguous();
    const std::int64_t* values = block.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < block.numel(); ++i) ++counts[values[i]];
  }
  const std::string names_at = f.has_attribute(split, "class_names") ? split : "/";
  std::vector<std::string> names;
  if (f.has_attribute(names_at, "class_names")) names = f.read_string_list_attribute(names_at, "class_names");
  fmt::print("  classes ({} names from {}; {} per class):\n", names.size(), names.empty() ? "nowhere" : names_at,
             has_labels ? "samples" : "mask pixels");
  for (const auto& [label, count] : counts) {
    const bool named = label >= 0 && label < static_cast<std::int64_t>(names.size());
    if (!names.empty() && !named)
      throw loom::IOError(fmt::format("{}: {}: label {} ({} {}) has no class name: expected 0..{}", f.path(), counted,
                                      label, count, has_labels ? "samples" : "pixels", names.size() - 1));
    fmt::print("    {:>3} {:<16} {:>9}\n", label, named ? names[static_cast<std::size_t>(label)] : "", with_commas(count));
  }
}

// Every group holding a dataset named `dataset` ("images", "tokens", "source"), depth first.
void find_splits(const loom::io::H5File& f, const std::string& group, const std::string& dataset,
                 std::vector<std::string>& out) {
  for (const auto& name : f.groups(group)) {
    const std::string path = (group == "/" ? "" : group) + "/" + name;
    if (f.is_dataset(path + "/" + dataset)) out.push_back(path);
    find_splits(f, path, dataset, out);
  }
}

// ---- sequence files (TokenStreamDataset, Seq2SeqDataset) ----

// A token as one visible word: control characters and the space escaped ("\n", "\t", "\x20").
std::string printable(const std::string& token) {
  std::string out;
  for (const char c : token) {
    const auto b = static_cast<unsigned char>(c);
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (b <= 0x20 || b == 0x7F) out += fmt::format("\\x{:02x}", b);
    else out += c;
  }
  return out;
}

void print_vocabulary(const loom::data::Vocabulary& v) {
  std::vector<std::string> shown;
  for (const auto& t : v.tokens()) shown.push_back(printable(t));
  fmt::print("  vocabulary ({} tokens): {}\n", v.size(), fmt::join(shown, " "));
}

std::string range_of(const loom::Tensor& lengths) {
  const std::vector<std::int64_t> v = lengths.to_vector<std::int64_t>();
  if (v.empty()) return "none";
  const auto [low, high] = std::minmax_element(v.begin(), v.end());
  return fmt::format("{}..{}", *low, *high);
}

// Each reader checks its split's layout and ids first, as training would.
int inspect_sequences(const std::string& path, const std::vector<std::string>& streams,
                      const std::vector<std::string>& pairs) {
  std::vector<loom::data::TokenStreamDataset> stream_sets;
  std::vector<loom::data::Seq2SeqDataset> pair_sets;
  for (const auto& split : streams) stream_sets.emplace_back(path, split.substr(1), 1);
  for (const auto& split : pairs) pair_sets.emplace_back(path, split.substr(1));
  const loom::io::H5File f(path);
  fmt::print("{}\n", path);
  for (const auto& name : f.attributes("/"))
    if (name != "vocabulary") fmt::print("  {} = {}\n", name, attribute_text(f, "/", name));
  print_vocabulary(stream_sets.empty() ? pair_sets.front().vocabulary() : stream_sets.front().vocabulary());
  for (std::size_t i = 0; i < streams.size(); ++i) {
    fmt::print("{}\n", streams[i]);
    print_dataset(f, streams[i] + "/tokens", -1);
    const auto& ds = stream_sets[i];
    const std::vector<std::int64_t> ids = ds.tokens().to_vector<std::int64_t>();
    const auto unk = ds.vocabulary().unk_id();
    fmt::print("  {} tokens, {} of them <unk>\n", with_commas(ds.tokens().numel()),
               unk ? with_commas(std::count(ids.begin(), ids.end(), *unk)) : std::string("none"));
  }
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const auto& ds = pair_sets[i];
    fmt::print("{}\n", pairs[i]);
    print_dataset(f, pairs[i] + "/source", ds.size());
    print_dataset(f, pairs[i] + "/target", ds.size());
    fmt::print("  {} pairs; source lengths {}, target lengths {} (with <bos> and <eos>)\n", with_commas(ds.size()),
               range_of(ds.source_lengths()), range_of(ds.target_lengths()));
  }
  return 0;
}

int data_inspect(const std::string& path) {
  std::vector<std::string> splits, streams, pairs;
  {
    const loom::io::H5File f(path);
    find_splits(f, "/", "images", splits);
    find_splits(f, "/", "tokens", streams);
    find_splits(f, "/", "source", pairs);
  }
  if (splits.empty() && !(streams.empty() && pairs.empty())) return inspect_sequences(path, streams, pairs);
  if (splits.empty())
    throw loom::IOError(fmt::format("{}: expected split groups holding an 'images' dataset (e.g. /train/images), "
                                    "'tokens' (a token stream) or 'source' (sequence pairs), found none", path));
  // The loader's own checks first (layout, label types and ranges, declared sizes), without
  // reading the images: inspect passes exactly the files that training can read.
  for (const auto& split : splits)
    loom::data::HDF5Dataset(path, split.substr(1), {.storage = loom::data::Storage::Stream});
  const loom::io::H5File f(path);
  fmt::print("{}\n", path);
  for (const auto& name : f.attributes("/")) fmt::print("  {} = {}\n", name, attribute_text(f, "/", name));
  for (const auto& split : splits) inspect_split(f, split);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "data") == 0) {
    if (argc != 4 || std::strcmp(argv[2], "inspect") != 0) return print_usage(stderr);
    try {
      return data_inspect(argv[3]);
    } catch (const std::exception& e) {
      fmt::print(stderr, "loom data inspect: {}\n", e.what());
      return 1;
    }
  }
  if (argc >= 2 && std::strcmp(argv[1], "summary") == 0) {
    try {
      return summary(argc, argv);
    } catch (const std::exception& e) {
      fmt::print(stderr, "{}\n", e.what());
      return 1;
    }
  }
  if (argc != 2) return print_usage(stderr);
  try {
    if (std::strcmp(argv[1], "plugins") == 0) return plugins();
    if (std::strcmp(argv[1], "info") == 0) return info();
    if (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) return print_usage(stdout);
    fmt::print(stderr, "loom: unknown command '{}'\n", argv[1]);
    return print_usage(stderr);
  } catch (const std::exception& e) {
    fmt::print(stderr, "loom {}: {}\n", argv[1], e.what());
    return 1;
  }
}
