// The HDF5 lock, error messages and type mapping shared by the H5File sources.
#include "hdf5_internal.hpp"

#include <cstring>

namespace loom::io::detail {

namespace {

std::recursive_mutex& hdf5_mutex() {
  static std::recursive_mutex mutex;
  return mutex;
}

// The innermost error that describes itself (some, as a failed metadata checksum's, come below
// one that does not).
herr_t keep_innermost(unsigned n, const H5E_error2_t* error, void* data) {
  auto* out = static_cast<std::string*>(data);
  if (out->empty() && error->desc && *error->desc) *out = error->desc;
  return 0;
}

}  // namespace

H5Lock::H5Lock() : lock_(hdf5_mutex()) {
  static const bool opened = H5open() >= 0;
  // A thread-safe HDF5 (Debian's) keeps an error stack, and whether it prints, per thread: each
  // thread that calls HDF5 (a streaming dataset's I/O thread) turns the printing off for itself.
  thread_local const bool quiet = H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr) >= 0;
  (void)opened;
  (void)quiet;
}

H5Lock::~H5Lock() = default;

std::string last_hdf5_error() {
  std::string reason;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, &reason);
  H5Eclear2(H5E_DEFAULT);
  return reason;
}

void fail(const std::string& file, std::string_view object, const std::string& what) {
  H5Eclear2(H5E_DEFAULT);
  if (object.empty()) throw IOError(fmt::format("{}: {}", file, what));
  throw IOError(fmt::format("{}: {}: {}", file, object, what));
}

void fail_hdf5(const std::string& file, std::string_view object, const std::string& what) {
  const std::string reason = last_hdf5_error();
  fail(file, object, reason.empty() ? what : fmt::format("{} (HDF5: {})", what, reason));
}

std::string normalise_path(const std::string& path) {
  std::string out = "/";
  std::size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    const std::size_t end = path.find('/', i);
    const std::size_t stop = end == std::string::npos ? path.size() : end;
    if (stop > i) {
      if (out.size() > 1) out += '/';
      out.append(path, i, stop - i);
    }
    i = stop;
  }
  return out;
}

Handle memory_type(DType dtype) {
  switch (dtype) {
    case DType::Float32: return type_handle(H5Tcopy(H5T_NATIVE_FLOAT));
    case DType::Float64: return type_handle(H5Tcopy(H5T_NATIVE_DOUBLE));
    case DType::Int64: return type_handle(H5Tcopy(H5T_NATIVE_INT64));
    case DType::UInt8: return type_handle(H5Tcopy(H5T_NATIVE_UINT8));
    case DType::Bool: {
      Handle type = type_handle(H5Tenum_create(H5T_NATIVE_INT8));
      const std::int8_t no = 0, yes = 1;
      H5Tenum_insert(type.get(), "FALSE", &no);
      H5Tenum_insert(type.get(), "TRUE", &yes);
      return type;
    }
  }
  LOOM_THROW(DTypeError, "HDF5: no HDF5 type for dtype {}", dtype_name(dtype));
}

namespace {

// h5py's bool: an enum on a 1-byte signed integer with exactly FALSE=0 and TRUE=1.
bool is_h5py_bool(hid_t type) {
  if (H5Tget_size(type) != 1 || H5Tget_nmembers(type) != 2) return false;
  for (unsigned i = 0; i < 2; ++i) {
    std::int8_t value = -1;
    if (H5Tget_member_value(type, i, &value) < 0) return false;
    char* name = H5Tget_member_name(type, i);
    if (!name) return false;
    const bool ok = (value == 0 && std::strcmp(name, "FALSE") == 0) || (value == 1 && std::strcmp(name, "TRUE") == 0);
    H5free_memory(name);
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::optional<DType> exact_dtype(hid_t type) {
  const std::size_t size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_FLOAT:
      if (size == 4) return DType::Float32;
      if (size == 8) return DType::Float64;
      return std::nullopt;
    case H5T_INTEGER: {
      const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
      if (is_signed && size == 8) return DType::Int64;
      if (!is_signed && size == 1) return DType::UInt8;
      return std::nullopt;
    }
    case H5T_ENUM:
      if (is_h5py_bool(type)) return DType::Bool;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

std::string describe_type(hid_t type) {
  const std::size_t size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_FLOAT: return fmt::format("float{}", 8 * size);
    case H5T_INTEGER: return fmt::format("{}int{}", H5Tget_sign(type) == H5T_SGN_2 ? "" : "u", 8 * size);
    case H5T_ENUM: return is_h5py_bool(type) ? "bool" : "enum";
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound";
    case H5T_ARRAY: return "array";
    case H5T_VLEN: return "variable-length sequence";
    case H5T_OPAQUE: return "opaque";
    case H5T_REFERENCE: return "reference";
    case H5T_BITFIELD: return "bitfield";
    case H5T_TIME: return "time";
    default: return "unknown type";
  }
}

Handle string_type() {
  Handle type = type_handle(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  return type;
}

}  // namespace loom::io::detail
