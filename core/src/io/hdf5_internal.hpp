#pragma once
// What the HDF5 sources share (never installed): the process-wide lock, RAII handles, error
// messages with HDF5's own reason, and the mapping between HDF5 types and Loom dtypes.
#include <hdf5.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "loom/check.hpp"
#include "loom/dtype.hpp"
#include "loom/io/hdf5.hpp"

namespace loom::io::detail {

static_assert(std::is_same_v<hid_t, std::int64_t>, "H5File stores its hid_t as std::int64_t");

// Held around every HDF5 call. Recursive: a locked entry point may call another one.
// The first lock of each thread also turns HDF5's error printing off for it (it would write to
// stderr).
class H5Lock {
 public:
  H5Lock();
  ~H5Lock();
  H5Lock(const H5Lock&) = delete;
  H5Lock& operator=(const H5Lock&) = delete;

 private:
  std::unique_lock<std::recursive_mutex> lock_;
};

// An owned hid_t, closed with the function for its kind. Only used while an H5Lock is held.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(Handle&& o) noexcept : id_(o.id_), closer_(o.closer_) { o.id_ = -1; }
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      closer_ = o.closer_;
      o.id_ = -1;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset() {
    if (id_ >= 0 && closer_) closer_(id_);
    id_ = -1;
  }

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

inline Handle dataset_handle(hid_t id) { return Handle(id, H5Dclose); }
inline Handle dataspace_handle(hid_t id) { return Handle(id, H5Sclose); }
inline Handle type_handle(hid_t id) { return Handle(id, H5Tclose); }
inline Handle attribute_handle(hid_t id) { return Handle(id, H5Aclose); }
inline Handle plist_handle(hid_t id) { return Handle(id, H5Pclose); }
inline Handle group_handle(hid_t id) { return Handle(id, H5Gclose); }
inline Handle object_handle(hid_t id) { return Handle(id, H5Oclose); }

// A FileMode for Loom's own writers (never in the public enum): Truncate, with the file kept in
// memory by HDF5's core driver and written to disk on flush and close. HDF5 1.10 does not
// survive a failed write through its default driver: H5Fclose fails, and the half-closed file
// crashes HDF5's shutdown at exit (SIGSEGV in H5F__close_cb). Through the core driver the same
// full disk is an error from close(), and the process exits cleanly.
inline constexpr FileMode kTruncateBuffered = static_cast<FileMode>(3);

// HDF5's most specific reason for the last failure ("truncated file: eof = ..."), then clears
// its error stack. Empty when HDF5 recorded nothing.
std::string last_hdf5_error();

// "file: object: what (HDF5: reason)" — the message of every IOError of this layer.
[[noreturn]] void fail(const std::string& file, std::string_view object, const std::string& what);
// As fail(), appending HDF5's reason for the call that just failed.
[[noreturn]] void fail_hdf5(const std::string& file, std::string_view object, const std::string& what);

// "/a/b" for "a/b", "/a/b/" and "/a/b"; "/" for "" and "/".
std::string normalise_path(const std::string& path);

// ---- types ----
// A new memory type for a dtype (bool: h5py's enum int8 {FALSE=0, TRUE=1}).
Handle memory_type(DType dtype);
// The Loom dtype an HDF5 type is exactly, if any.
std::optional<DType> exact_dtype(hid_t type);
// "float32", "int16", "uint64", "bool", "string", "enum", "compound", ...
std::string describe_type(hid_t type);
// A variable-length UTF-8 string type.
Handle string_type();

}  // namespace loom::io::detail
