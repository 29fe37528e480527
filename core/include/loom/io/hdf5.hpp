#pragma once
// HDF5 files through the C API, without its headers: tensors, strings and attributes by path.
//
// ```cpp
// #include "loom/io/hdf5.hpp"
// #include "loom/tensor_ops.hpp"
//
// loom::Tensor images = loom::zeros({100, 1, 28, 28}, loom::DType::UInt8), w = loom::randn({10, 784});
// loom::io::H5File f("data.h5", loom::io::FileMode::Truncate);
// f.write_tensor("/train/images", images, {.compression = 4});   // chunked + gzip
// f.write_tensor("/model/fc.weight", w, {.checksum = true});     // chunked + Fletcher-32
// f.write_string_list_attribute("/train", "class_names", {"T-shirt/top", "Trouser"});
// loom::io::H5File g("data.h5");                                   // read-only
// loom::Tensor labels = g.read_tensor("/train/labels", loom::DType::Int64, 1);
// ```
//
// Paths are absolute ("/train/labels"; a relative path is taken from the root) and writing
// creates the groups on the way. Tensors of every Loom dtype, any shape (0-d and empty too),
// any layout (written row-major); bool is stored as h5py stores it (an int8 enum FALSE/TRUE),
// strings as variable-length UTF-8, so h5py reads what Loom writes and the other way round.
// Every failure is a loom::IOError naming the file, the object path and what was expected vs
// found ("data.h5: /train/labels: expected int64, found float32"); HDF5's own error printing
// is off. HDF5 is not thread-safe in this build: every call takes one process-wide lock.
// New files use HDF5's 1.8 format, whose object headers carry checksums, and groups keep all
// their attributes in their header: a damaged group, dataset header or attribute is an IOError
// naming it ("cannot open: the object is damaged"), as is a dataset written with a checksum
// (DatasetOptions::checksum) whose data changed. HDF5 ≥ 1.8 and every h5py read these files.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "loom/export.hpp"
#include "loom/tensor.hpp"

namespace loom::io {

enum class FileMode : unsigned char {
  ReadOnly,   // the file must exist
  ReadWrite,  // the file must exist
  Truncate,   // created, or emptied when it exists
};

// How write_tensor lays a dataset out on disk.
struct DatasetOptions {
  int compression = 0;   // gzip level 1..9; 0 = none
  bool shuffle = false;  // byte shuffle before gzip (helps floats compress)
  // A Fletcher-32 checksum of each chunk (after compression), which HDF5 verifies on every read:
  // a mismatch is an IOError naming the dataset. It needs chunks; HDF5 cannot chunk a 0-d
  // dataset (an IOError: write it with shape (1,)), and an empty one has no data to protect.
  bool checksum = false;
  // Chunk sizes, one per dim (clipped to the dataset's sizes). Empty: contiguous storage,
  // unless compression or a checksum asks for chunks; then whole rows of about 1 MiB per chunk.
  Shape chunks{};
};

// What a dataset holds, without reading it.
struct DatasetInfo {
  Shape sizes;
  std::optional<DType> dtype;  // none when the element type is not a Loom dtype
  std::string type;            // "float32", "int32", "bool", "string", "compound", ...
  Shape chunks;                // empty when not chunked
  int compression = 0;         // gzip level; 0 when not gzip-compressed
  bool shuffle = false;        // byte shuffle before compression
  bool checksum = false;       // Fletcher-32 on each chunk
  // Filters other than gzip, shuffle and Fletcher-32 (szip, lzf, ...), by HDF5's name; reading them may fail.
  std::vector<std::string> other_filters;
};

class LOOM_API H5File {
 public:
  explicit H5File(const std::string& path, FileMode mode = FileMode::ReadOnly);
  ~H5File();  // closes without throwing
  H5File(H5File&& other) noexcept;
  H5File& operator=(H5File&& other) noexcept;
  H5File(const H5File&) = delete;
  H5File& operator=(const H5File&) = delete;

  const std::string& path() const { return path_; }
  bool is_open() const { return id_ >= 0; }
  void flush();
  // Closes the file and everything still open in it; later calls are IOErrors.
  void close();

  // ---- structure ----
  bool exists(const std::string& path) const;  // a group or dataset (or "/")
  bool is_group(const std::string& path) const;
  bool is_dataset(const std::string& path) const;
  void create_group(const std::string& path);  // with its parents; nothing when it exists
  // Names (not paths) of the members of a group, sorted.
  std::vector<std::string> groups(const std::string& group = "/") const;
  std::vector<std::string> datasets(const std::string& group = "/") const;
  std::vector<std::string> attributes(const std::string& object = "/") const;
  bool has_attribute(const std::string& object, const std::string& name) const;

  // ---- tensors ----
  // Replaces a dataset that exists at `path` (HDF5 does not reclaim the old space).
  void write_tensor(const std::string& path, const Tensor& t, const DatasetOptions& options = {});
  // In the dataset's own dtype; other integer types become int64 and float16 float32.
  Tensor read_tensor(const std::string& path) const;
  // Checks the dtype exactly and, when rank ≥ 0, the rank.
  Tensor read_tensor(const std::string& path, DType dtype, std::int64_t rank = -1) const;
  // Rows [start, start + count) along dim 0 (the rest of every dim), for batch readers.
  Tensor read_rows(const std::string& path, std::int64_t start, std::int64_t count) const;
  DatasetInfo dataset_info(const std::string& path) const;

  // ---- string datasets (JSON configs, text) ----
  void write_string(const std::string& path, std::string_view value);
  std::string read_string(const std::string& path) const;  // variable- or fixed-length

  // ---- scalar attributes of a group or dataset (a missing group is created on write) ----
  // Writing replaces an attribute of the same name, whatever its type.
  void write_string_attribute(const std::string& object, const std::string& name, std::string_view value);
  void write_int_attribute(const std::string& object, const std::string& name, std::int64_t value);
  void write_uint_attribute(const std::string& object, const std::string& name, std::uint64_t value);
  void write_double_attribute(const std::string& object, const std::string& name, double value);
  std::string read_string_attribute(const std::string& object, const std::string& name) const;
  std::int64_t read_int_attribute(const std::string& object, const std::string& name) const;
  std::uint64_t read_uint_attribute(const std::string& object, const std::string& name) const;
  double read_double_attribute(const std::string& object, const std::string& name) const;  // ints too
  // A scalar or a 1-D array of numbers (h5py: attrs["mean"] = [0.5, 0.5, 0.5]) as doubles.
  std::vector<double> read_double_list_attribute(const std::string& object, const std::string& name) const;

  // ---- string-list attributes (class names), as h5py's attrs['x'] = ['a', 'b'] stores them ----
  // Written as a 1-D array of variable-length UTF-8 strings. Reading takes variable- or
  // fixed-length string arrays of any rank (flattened) and a scalar string (one element).
  void write_string_list_attribute(const std::string& object, const std::string& name,
                                   const std::vector<std::string>& values);
  std::vector<std::string> read_string_list_attribute(const std::string& object, const std::string& name) const;

 private:
  std::int64_t id_ = -1;  // hid_t
  std::string path_;
  FileMode mode_ = FileMode::ReadOnly;
};

// One-shot helpers: open, read or write one dataset, close. Errors name the file and the
// dataset even when the file itself cannot be opened.
LOOM_API Tensor read_tensor(const std::string& file, const std::string& dataset);
LOOM_API Tensor read_tensor(const std::string& file, const std::string& dataset, DType dtype,
                            std::int64_t rank = -1);

}  // namespace loom::io
