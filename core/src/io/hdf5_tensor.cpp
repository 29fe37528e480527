// H5File: tensors as datasets (write with optional chunking and gzip, read whole or by rows).
#include <algorithm>
#include <vector>

#include "hdf5_internal.hpp"
#include "loom/autograd.hpp"
#include "loom/io/hdf5.hpp"

namespace loom::io {

using detail::fail;
using detail::fail_hdf5;
using detail::Handle;
using detail::H5Lock;
using detail::normalise_path;

namespace {

constexpr std::size_t kAutoChunkBytes = std::size_t{1} << 20;

// Little-endian standard types on disk, whatever the machine.
Handle file_type(DType dtype) {
  switch (dtype) {
    case DType::Float32: return detail::type_handle(H5Tcopy(H5T_IEEE_F32LE));
    case DType::Float64: return detail::type_handle(H5Tcopy(H5T_IEEE_F64LE));
    case DType::Int64: return detail::type_handle(H5Tcopy(H5T_STD_I64LE));
    case DType::UInt8: return detail::type_handle(H5Tcopy(H5T_STD_U8LE));
    case DType::Bool: return detail::memory_type(DType::Bool);
  }
  return {};
}

std::vector<hsize_t> to_hsize(const Shape& s) { return {s.begin(), s.end()}; }

// Chunk sizes for write_tensor, or an empty vector for contiguous storage.
std::vector<hsize_t> choose_chunks(const std::string& file, const std::string& path, const Tensor& t,
                                   const DatasetOptions& options) {
  if (options.chunks.empty() && options.compression == 0 && !options.checksum) return {};
  // HDF5 cannot chunk a scalar or a dataset with a zero-sized dim; nothing to compress either.
  if (t.dim() == 0 || t.numel() == 0) return {};
  std::vector<hsize_t> chunks = to_hsize(t.sizes());
  if (!options.chunks.empty()) {
    if (static_cast<std::int64_t>(options.chunks.size()) != t.dim())
      fail(file, path, fmt::format("write_tensor: expected {} chunk sizes for shape {}, found {} {}", t.dim(),
                                   t.sizes().str(), options.chunks.size(), options.chunks.str()));
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      if (options.chunks[i] <= 0)
        fail(file, path, fmt::format("write_tensor: chunk sizes must be positive, found {}", options.chunks.str()));
      chunks[i] = std::min<hsize_t>(chunks[i], static_cast<hsize_t>(options.chunks[i]));
    }
    return chunks;
  }
  // Whole rows (everything but dim 0), as many as fit in about 1 MiB.
  const std::size_t row_bytes = static_cast<std::size_t>(t.numel() / t.size(0)) * t.itemsize();
  chunks[0] = std::clamp<hsize_t>(kAutoChunkBytes / std::max<std::size_t>(row_bytes, 1), 1, chunks[0]);
  return chunks;
}

// Deflate stores at most about 1032 bytes of data per byte on disk; with room for chunks whose
// size HDF5 rounds, anything past this ratio (plus a small slack) is not in the file.
constexpr double kMaxExpansion = 2048.0;
constexpr double kSlackBytes = double(std::size_t{1} << 20);

struct OpenedDataset {
  Handle dataset;
  Handle type;
  Handle space;
  Shape sizes;
};

// A dataset's shape is a promise of the file: chunks HDF5 never wrote read as fill values, so a
// few kilobytes can declare 2^36 rows (terabytes), and a reader that allocates or iterates over
// them runs out of memory or time. Numbers past what the file can hold are refused here, once,
// before anything is allocated.
void check_declared_size(hid_t file, const std::string& file_path, const std::string& path, const OpenedDataset& d) {
  const H5T_class_t cls = H5Tget_class(d.type.get());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT && cls != H5T_ENUM) return;  // strings and others: not read as tensors
  double bytes = double(H5Tget_size(d.type.get()));
  for (std::int64_t size : d.sizes) bytes *= double(size);
  if (bytes == 0) return;
  const double stored = double(H5Dget_storage_size(d.dataset.get()));
  hsize_t file_size = 0;
  H5Fget_filesize(file, &file_size);
  H5Eclear2(H5E_DEFAULT);
  if (bytes <= stored * kMaxExpansion + kSlackBytes && stored <= double(file_size)) return;
  fail(file_path, path,
       fmt::format("declares shape {} of {} ({:.4g} bytes), but the file holds {:.4g} bytes of it in a file of {} "
                   "bytes: the data was never written, or the file is damaged or truncated",
                   d.sizes.str(), detail::describe_type(d.type.get()), bytes, stored, file_size));
}

OpenedDataset open_dataset(hid_t file, const std::string& file_path, const std::string& path) {
  if (file < 0) fail(file_path, path, "the file is closed");
  // H5Dopen2 on a missing path fails with a generic reason: look first for a clear message.
  std::size_t pos = 1;
  while (path != "/") {
    const std::size_t end = path.find('/', pos);
    if (H5Lexists(file, path.substr(0, end).c_str(), H5P_DEFAULT) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      fail(file_path, path, "no such dataset");
    }
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  Handle object = detail::object_handle(H5Oopen(file, path.c_str(), H5P_DEFAULT));
  if (!object.valid()) fail_hdf5(file_path, path, "no such dataset");
  if (H5Iget_type(object.get()) != H5I_DATASET) fail(file_path, path, "expected a dataset, found a group");
  OpenedDataset out;
  out.dataset = detail::dataset_handle(H5Dopen2(file, path.c_str(), H5P_DEFAULT));
  if (!out.dataset.valid()) fail_hdf5(file_path, path, "cannot open the dataset");
  out.type = detail::type_handle(H5Dget_type(out.dataset.get()));
  out.space = detail::dataspace_handle(H5Dget_space(out.dataset.get()));
  if (!out.type.valid() || !out.space.valid()) fail_hdf5(file_path, path, "cannot read the dataset's type or shape");
  switch (H5Sget_simple_extent_type(out.space.get())) {
    case H5S_SCALAR: break;
    case H5S_SIMPLE: {
      const int rank = H5Sget_simple_extent_ndims(out.space.get());
      std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
      H5Sget_simple_extent_dims(out.space.get(), dims.data(), nullptr);
      for (hsize_t d : dims) out.sizes.push_back(static_cast<std::int64_t>(d));
      break;
    }
    default: fail(file_path, path, "expected an array, found a dataset without data (null dataspace)");
  }
  check_declared_size(file, file_path, path, out);
  return out;
}

// The dtype read_tensor(path) gives a dataset: its own, or the lossless Loom dtype for it.
DType natural_dtype(const std::string& file, const std::string& path, hid_t type) {
  if (auto exact = detail::exact_dtype(type)) return *exact;
  const std::size_t size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      if (!(H5Tget_sign(type) == H5T_SGN_NONE && size == 8)) return DType::Int64;
      break;
    case H5T_FLOAT:
      if (size == 2) return DType::Float32;
      break;
    default: break;
  }
  fail(file, path, fmt::format("expected a numeric dataset (float32, float64, int64, uint8, bool or a narrower "
                               "integer or float), found {}", detail::describe_type(type)));
}

bool has_filter(hid_t dataset, H5Z_filter_t filter) {
  Handle dcpl = detail::plist_handle(H5Dget_create_plist(dataset));
  if (!dcpl.valid()) return false;
  unsigned flags = 0;
  std::size_t n_values = 0;
  const bool found = H5Pget_filter_by_id2(dcpl.get(), filter, &flags, &n_values, nullptr, 0, nullptr, nullptr) >= 0;
  H5Eclear2(H5E_DEFAULT);
  return found;
}

// Reads the selection `file_space` (H5S_ALL: everything) into a new tensor of `sizes`.
Tensor read_selection(const std::string& file, const std::string& path, const OpenedDataset& d, DType dtype,
                      const Shape& sizes, hid_t mem_space, hid_t file_space) {
  Tensor out = empty(sizes, dtype);
  if (out.numel() == 0) return out;
  Handle mem_type = detail::memory_type(dtype);
  if (H5Dread(d.dataset.get(), mem_type.get(), mem_space, file_space, H5P_DEFAULT, out.raw_data()) < 0) {
    const std::string reason = detail::last_hdf5_error();
    // The types always convert (they were checked): a read fails on the bytes in the file.
    std::string what = fmt::format("cannot read the {} data", detail::describe_type(d.type.get()));
    // HDF5 names no reason for a failed checksum: a checksummed dataset that does not read has
    // bytes on disk other than those written.
    if (has_filter(d.dataset.get(), H5Z_FILTER_FLETCHER32))
      what += ": its Fletcher-32 checksum (or another filter) failed: the file was damaged or changed after it was written";
    else if (has_filter(d.dataset.get(), H5Z_FILTER_DEFLATE))
      what += ": a gzip-compressed chunk does not decompress: the file was damaged after it was written";
    else
      what += ": the file is damaged or truncated";
    fail(file, path, reason.empty() ? what : fmt::format("{} (HDF5: {})", what, reason));
  }
  return out;
}

}  // namespace

void H5File::write_tensor(const std::string& path_in, const Tensor& t, const DatasetOptions& options) {
  H5Lock lock;
  const std::string path = normalise_path(path_in);
  if (id_ < 0) fail(path_, path, "the file is closed");
  if (mode_ == FileMode::ReadOnly) fail(path_, path, "cannot write: the file is open read-only");
  if (!t.defined()) fail(path_, path, "write_tensor: expected a tensor, found an undefined one");
  if (options.compression < 0 || options.compression > 9)
    fail(path_, path, fmt::format("write_tensor: expected a gzip level 0..9, found {}", options.compression));
  Tensor host;
  {
    NoGradGuard no_grad;
    host = t.detach();
    if (host.device() != kCPU) host = host.to(kCPU);
    host = host.contiguous();
  }
  const std::vector<hsize_t> dims = to_hsize(host.sizes());
  Handle space = detail::dataspace_handle(dims.empty() ? H5Screate(H5S_SCALAR)
                                                       : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  if (options.checksum && host.dim() == 0)
    fail(path_, path, "write_tensor: a checksum needs chunked storage, which HDF5 has not for a 0-d dataset "
                      "(write it with shape (1,))");
  Handle dcpl = detail::plist_handle(H5Pcreate(H5P_DATASET_CREATE));
  const std::vector<hsize_t> chunks = choose_chunks(path_, path, host, options);
  if (!chunks.empty()) {
    H5Pset_chunk(dcpl.get(), static_cast<int>(chunks.size()), chunks.data());
    if (options.shuffle) H5Pset_shuffle(dcpl.get());
    if (options.compression > 0) {
      if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0) fail(path_, path, "write_tensor: this HDF5 library has no gzip filter");
      H5Pset_deflate(dcpl.get(), static_cast<unsigned>(options.compression));
    }
    // Last, so the checksum covers the bytes on disk.
    if (options.checksum) {
      if (H5Zfilter_avail(H5Z_FILTER_FLETCHER32) <= 0) fail(path_, path, "write_tensor: this HDF5 library has no Fletcher-32 filter");
      H5Pset_fletcher32(dcpl.get());
    }
  }
  if (H5Lexists(id_, path.c_str(), H5P_DEFAULT) > 0) {
    if (!is_dataset(path)) fail(path_, path, "cannot write a tensor: expected nothing or a dataset, found a group");
    if (H5Ldelete(id_, path.c_str(), H5P_DEFAULT) < 0) fail_hdf5(path_, path, "cannot replace the dataset");
  }
  H5Eclear2(H5E_DEFAULT);
  Handle lcpl = detail::plist_handle(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  Handle type = file_type(host.dtype());
  Handle dataset = detail::dataset_handle(
      H5Dcreate2(id_, path.c_str(), type.get(), space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT));
  if (!dataset.valid()) fail_hdf5(path_, path, "cannot create the dataset");
  if (host.numel() == 0) return;
  Handle mem_type = detail::memory_type(host.dtype());
  if (H5Dwrite(dataset.get(), mem_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, host.raw_data()) < 0)
    fail_hdf5(path_, path, "cannot write the data");
}

Tensor H5File::read_tensor(const std::string& path_in) const {
  H5Lock lock;
  const std::string path = normalise_path(path_in);
  OpenedDataset d = open_dataset(id_, path_, path);
  const DType dtype = natural_dtype(path_, path, d.type.get());
  return read_selection(path_, path, d, dtype, d.sizes, H5S_ALL, H5S_ALL);
}

Tensor H5File::read_tensor(const std::string& path_in, DType dtype, std::int64_t rank) const {
  H5Lock lock;
  const std::string path = normalise_path(path_in);
  OpenedDataset d = open_dataset(id_, path_, path);
  const auto found = detail::exact_dtype(d.type.get());
  if (found != dtype)
    fail(path_, path, fmt::format("expected {}, found {}", dtype_name(dtype), detail::describe_type(d.type.get())));
  if (rank >= 0 && static_cast<std::int64_t>(d.sizes.size()) != rank)
    fail(path_, path, fmt::format("expected rank {}, found rank {} (shape {})", rank, d.sizes.size(), d.sizes.str()));
  return read_selection(path_, path, d, dtype, d.sizes, H5S_ALL, H5S_ALL);
}

Tensor H5File::read_rows(const std::string& path_in, std::int64_t start, std::int64_t count) const {
  H5Lock lock;
  const std::string path = normalise_path(path_in);
  OpenedDataset d = open_dataset(id_, path_, path);
  const DType dtype = natural_dtype(path_, path, d.type.get());
  if (d.sizes.empty()) fail(path_, path, "read_rows: expected a dataset of rank ≥ 1, found a scalar");
  const std::int64_t rows = d.sizes[0];
  if (start < 0 || count < 0 || start + count > rows)
    throw IndexError(fmt::format("{}: {}: read_rows: rows [{}, {}) are outside [0, {})", path_, path, start,
                                 start + count, rows));
  Shape sizes = d.sizes;
  sizes[0] = count;
  if (count == 0) return empty(sizes, dtype);
  std::vector<hsize_t> offset(d.sizes.size(), 0), extent = to_hsize(sizes);
  offset[0] = static_cast<hsize_t>(start);
  if (H5Sselect_hyperslab(d.space.get(), H5S_SELECT_SET, offset.data(), nullptr, extent.data(), nullptr) < 0)
    fail_hdf5(path_, path, "read_rows: cannot select the rows");
  Handle mem_space = detail::dataspace_handle(H5Screate_simple(static_cast<int>(extent.size()), extent.data(), nullptr));
  return read_selection(path_, path, d, dtype, sizes, mem_space.get(), d.space.get());
}

DatasetInfo H5File::dataset_info(const std::string& path_in) const {
  H5Lock lock;
  const std::string path = normalise_path(path_in);
  OpenedDataset d = open_dataset(id_, path_, path);
  DatasetInfo info;
  info.sizes = d.sizes;
  info.dtype = detail::exact_dtype(d.type.get());
  info.type = detail::describe_type(d.type.get());
  Handle dcpl = detail::plist_handle(H5Dget_create_plist(d.dataset.get()));
  if (dcpl.valid() && H5Pget_layout(dcpl.get()) == H5D_CHUNKED) {
    std::vector<hsize_t> chunks(d.sizes.size());
    H5Pget_chunk(dcpl.get(), static_cast<int>(chunks.size()), chunks.data());
    for (hsize_t c : chunks) info.chunks.push_back(static_cast<std::int64_t>(c));
    const int filters = H5Pget_nfilters(dcpl.get());
    for (int i = 0; i < filters; ++i) {
      unsigned flags = 0, values[8] = {};
      std::size_t n_values = 8;
      char name[64] = {};
      const H5Z_filter_t filter = H5Pget_filter2(dcpl.get(), static_cast<unsigned>(i), &flags, &n_values, values,
                                                 sizeof name, name, nullptr);
      if (filter == H5Z_FILTER_DEFLATE) info.compression = n_values > 0 ? static_cast<int>(values[0]) : 1;
      else if (filter == H5Z_FILTER_SHUFFLE) info.shuffle = true;
      else if (filter == H5Z_FILTER_FLETCHER32) info.checksum = true;
      else info.other_filters.emplace_back(name[0] ? name : fmt::format("filter {}", filter));
    }
  }
  return info;
}

}  // namespace loom::io
