// H5File: opening and closing, the group structure, attributes and string datasets.
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>

#include "hdf5_internal.hpp"
#include "loom/io/hdf5.hpp"

namespace loom::io {

using detail::fail;
using detail::fail_hdf5;
using detail::Handle;
using detail::H5Lock;
using detail::normalise_path;

namespace {

hid_t open_file(const std::string& path, FileMode mode) {
  Handle fapl = detail::plist_handle(H5Pcreate(H5P_FILE_ACCESS));
  // Closing the file closes it for real (no object kept open elsewhere keeps it alive), so a
  // writer that closed it can fsync and rename.
  H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG);
  if (mode == detail::kTruncateBuffered) {
    // Grown 1 MiB at a time, written to the file on flush and close.
    H5Pset_fapl_core(fapl.get(), std::size_t{1} << 20, true);
    mode = FileMode::Truncate;
  }
  if (mode == FileMode::Truncate) {
    // The 1.8 file format: its object headers, and so the attributes in them, carry checksums
    // that HDF5 verifies on every read (HDF5's default, the 1.6 format, has none). HDF5 ≥ 1.8
    // and every h5py read it.
    if (H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_V18) < 0)
      fail_hdf5(path, "", "cannot create the file: the 1.8 file format is not available");
    const hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get());
    if (id < 0) fail_hdf5(path, "", "cannot create the file");
    return id;
  }
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) fail(path, "", "cannot open: no such file");
  if (std::filesystem::is_directory(status)) fail(path, "", "cannot open: expected a file, found a directory");
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 == 0) fail(path, "", "cannot open: not an HDF5 file (no HDF5 signature found)");
  if (is_hdf5 < 0) fail_hdf5(path, "", "cannot open");
  const hid_t id = H5Fopen(path.c_str(), mode == FileMode::ReadOnly ? H5F_ACC_RDONLY : H5F_ACC_RDWR, fapl.get());
  if (id >= 0) return id;
  const std::string reason = detail::last_hdf5_error();
  // HDF5 locks a file while a process writes it; a reader that comes then is refused with a lock
  // error, and the file itself is fine.
  if (reason.find("lock") != std::string::npos)
    fail(path, "", fmt::format("cannot open: another process has the file open for writing (HDF5 locks it until "
                               "that process closes it); try again when it is done (HDF5: {})", reason));
  fail(path, "", reason.empty() ? "cannot open: the HDF5 file is damaged or truncated"
                                : fmt::format("cannot open: the HDF5 file is damaged or truncated (HDF5: {})", reason));
}

// The name the file was opened with, for messages.
std::string file_name(hid_t file) {
  const ssize_t n = H5Fget_name(file, nullptr, 0);
  if (n <= 0) return "(unnamed HDF5 file)";
  std::string name(static_cast<std::size_t>(n), '\0');
  H5Fget_name(file, name.data(), name.size() + 1);
  return name;
}

// After H5Oopen failed on `name` (relative to `location`) for HDF5's `reason`: a dangling soft
// or external link names nothing, but a hard link whose object does not open names a damaged one
// (a failed metadata checksum, a truncated file), an IOError at `path`.
void check_not_damaged(hid_t location, const char* name, const std::string& reason, const std::string& file_path,
                       const std::string& path) {
  H5L_info_t link;
  if (H5Lget_info(location, name, &link, H5P_DEFAULT) >= 0 && link.type == H5L_TYPE_HARD)
    fail(file_path, path, fmt::format("cannot open: the object is damaged (HDF5: {})", reason));
  H5Eclear2(H5E_DEFAULT);
}

// The kind of object at a (normalised) path, or H5I_BADID when there is none.
H5I_type_t object_kind(hid_t file, const std::string& path) {
  if (path != "/") {
    std::size_t pos = 1;
    while (true) {
      const std::size_t end = path.find('/', pos);
      const std::string prefix = path.substr(0, end);
      if (H5Lexists(file, prefix.c_str(), H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return H5I_BADID;
      }
      if (end == std::string::npos) break;
      pos = end + 1;
    }
  }
  Handle object = detail::object_handle(H5Oopen(file, path.c_str(), H5P_DEFAULT));
  if (!object.valid()) {
    const std::string reason = detail::last_hdf5_error();  // before file_name() clears it
    if (path != "/") check_not_damaged(file, path.c_str(), reason, file_name(file), path);
    return H5I_BADID;
  }
  return H5Iget_type(object.get());
}

const char* kind_name(H5I_type_t kind) {
  switch (kind) {
    case H5I_GROUP: return "a group";
    case H5I_DATASET: return "a dataset";
    case H5I_DATATYPE: return "a named datatype";
    default: return "nothing";
  }
}

Handle link_create_plist() {
  Handle lcpl = detail::plist_handle(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  H5Pset_char_encoding(lcpl.get(), H5T_CSET_UTF8);
  return lcpl;
}

// Reads one string (variable- or fixed-length) of `file_type` with `read(mem_type, buffer)`.
std::string read_string_value(hid_t file_type, const std::function<herr_t(hid_t, void*)>& read,
                              const std::string& file, const std::string& object) {
  if (H5Tis_variable_str(file_type) > 0) {
    Handle mem = detail::string_type();
    H5Tset_cset(mem.get(), H5Tget_cset(file_type));
    char* value = nullptr;
    if (read(mem.get(), &value) < 0) fail_hdf5(file, object, "cannot read the string");
    std::string out = value ? value : "";
    H5free_memory(value);
    return out;
  }
  // Fixed length (numpy bytes in h5py): read the bytes as stored, drop the padding.
  const std::size_t size = H5Tget_size(file_type);
  Handle mem = detail::type_handle(H5Tcopy(H5T_C_S1));
  H5Tset_size(mem.get(), size);
  H5Tset_strpad(mem.get(), H5T_STR_NULLPAD);
  H5Tset_cset(mem.get(), H5Tget_cset(file_type));
  std::string out(size, '\0');
  if (read(mem.get(), out.data()) < 0) fail_hdf5(file, object, "cannot read the string");
  const char pad = H5Tget_strpad(file_type) == H5T_STR_SPACEPAD ? ' ' : '\0';
  while (!out.empty() && (out.back() == '\0' || out.back() == pad)) out.pop_back();
  if (const auto nul = out.find('\0'); nul != std::string::npos) out.resize(nul);
  return out;
}

std::int64_t count_points(hid_t space) { return static_cast<std::int64_t>(H5Sget_simple_extent_npoints(space)); }

}  // namespace

// ---- lifetime ---------------------------------------------------------------------------------

H5File::H5File(const std::string& path, FileMode mode) : path_(path), mode_(mode) {
  H5Lock lock;
  id_ = open_file(path, mode);
}

H5File::~H5File() {
  if (id_ < 0) return;
  H5Lock lock;
  H5Fclose(id_);
  H5Eclear2(H5E_DEFAULT);
}

H5File::H5File(H5File&& other) noexcept : id_(other.id_), path_(std::move(other.path_)), mode_(other.mode_) {
  other.id_ = -1;
}

H5File& H5File::operator=(H5File&& other) noexcept {
  if (this != &other) {
    if (id_ >= 0) {
      H5Lock lock;
      H5Fclose(id_);
    }
    id_ = other.id_;
    path_ = std::move(other.path_);
    mode_ = other.mode_;
    other.id_ = -1;
  }
  return *this;
}

void H5File::flush() {
  H5Lock lock;
  if (id_ < 0) fail(path_, "", "cannot flush: the file is closed");
  if (H5Fflush(id_, H5F_SCOPE_GLOBAL) < 0) fail_hdf5(path_, "", "cannot flush");
}

void H5File::close() {
  if (id_ < 0) return;
  H5Lock lock;
  const herr_t status = H5Fclose(id_);
  id_ = -1;
  if (status < 0) fail_hdf5(path_, "", "cannot close (the data may not be on disk)");
}

// ---- structure --------------------------------------------------------------------------------

bool H5File::exists(const std::string& path) const {
  H5Lock lock;
  if (id_ < 0) fail(path_, path, "the file is closed");
  return object_kind(id_, normalise_path(path)) != H5I_BADID;
}

bool H5File::is_group(const std::string& path) const {
  H5Lock lock;
  if (id_ < 0) fail(path_, path, "the file is closed");
  return object_kind(id_, normalise_path(path)) == H5I_GROUP;
}

bool H5File::is_dataset(const std::string& path) const {
  H5Lock lock;
  if (id_ < 0) fail(path_, path, "the file is closed");
  return object_kind(id_, normalise_path(path)) == H5I_DATASET;
}

void H5File::create_group(const std::string& path_in) {
  H5Lock lock;
  const std::string path = normalise_path(path_in);
  if (id_ < 0) fail(path_, path, "the file is closed");
  if (mode_ == FileMode::ReadOnly) fail(path_, path, "cannot create a group: the file is open read-only");
  const H5I_type_t kind = object_kind(id_, path);
  if (kind == H5I_GROUP) return;
  if (kind != H5I_BADID) fail(path_, path, fmt::format("cannot create a group: expected nothing or a group, found {}", kind_name(kind)));
  Handle lcpl = link_create_plist();
  // Every attribute stays in the group's object header, which is checksummed; past 8 HDF5 would
  // move them to a heap whose blocks it does not checksum (a checkpoint's optimizer has hundreds).
  Handle gcpl = detail::plist_handle(H5Pcreate(H5P_GROUP_CREATE));
  H5Pset_attr_phase_change(gcpl.get(), 65535, 65534);
  Handle group = detail::group_handle(H5Gcreate2(id_, path.c_str(), lcpl.get(), gcpl.get(), H5P_DEFAULT));
  if (!group.valid()) fail_hdf5(path_, path, "cannot create the group");
}

namespace {

std::vector<std::string> members(hid_t file, const std::string& file_path, const std::string& group_in,
                                 H5I_type_t wanted) {
  const std::string path = normalise_path(group_in);
  if (file < 0) fail(file_path, path, "the file is closed");
  const H5I_type_t kind = object_kind(file, path);
  if (kind != H5I_GROUP) fail(file_path, path, fmt::format("expected a group, found {}", kind_name(kind)));
  Handle group = detail::group_handle(H5Gopen2(file, path.c_str(), H5P_DEFAULT));
  H5G_info_t info;
  if (!group.valid() || H5Gget_info(group.get(), &info) < 0) fail_hdf5(file_path, path, "cannot list the group");
  std::vector<std::string> out;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t n = H5Lget_name_by_idx(group.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (n < 0) fail_hdf5(file_path, path, "cannot list the group");
    std::string name(static_cast<std::size_t>(n), '\0');
    H5Lget_name_by_idx(group.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size() + 1, H5P_DEFAULT);
    Handle object = detail::object_handle(H5Oopen(group.get(), name.c_str(), H5P_DEFAULT));
    if (!object.valid()) {
      check_not_damaged(group.get(), name.c_str(), detail::last_hdf5_error(), file_path,
                        path == "/" ? "/" + name : path + "/" + name);
      continue;
    }
    if (H5Iget_type(object.get()) == wanted) out.push_back(std::move(name));
  }
  return out;
}

herr_t collect_attribute_name(hid_t, const char* name, const H5A_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}

// Opens the group or dataset an attribute belongs to.
Handle open_object(hid_t file, const std::string& file_path, const std::string& path) {
  if (file < 0) fail(file_path, path, "the file is closed");
  const H5I_type_t kind = object_kind(file, path);
  if (kind == H5I_BADID) fail(file_path, path, "no such group or dataset");
  Handle object = detail::object_handle(H5Oopen(file, path.c_str(), H5P_DEFAULT));
  if (!object.valid()) fail_hdf5(file_path, path, "cannot open");
  return object;
}

}  // namespace

std::vector<std::string> H5File::groups(const std::string& group) const {
  H5Lock lock;
  return members(id_, path_, group, H5I_GROUP);
}

std::vector<std::string> H5File::datasets(const std::string& group) const {
  H5Lock lock;
  return members(id_, path_, group, H5I_DATASET);
}

std::vector<std::string> H5File::attributes(const std::string& object_in) const {
  H5Lock lock;
  const std::string path = normalise_path(object_in);
  Handle object = open_object(id_, path_, path);
  std::vector<std::string> names;
  if (H5Aiterate2(object.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_attribute_name, &names) < 0)
    fail_hdf5(path_, path, "cannot list the attributes");
  return names;
}

bool H5File::has_attribute(const std::string& object_in, const std::string& name) const {
  H5Lock lock;
  const std::string path = normalise_path(object_in);
  if (id_ < 0) fail(path_, path, "the file is closed");
  if (object_kind(id_, path) == H5I_BADID) return false;
  Handle object = open_object(id_, path_, path);
  const htri_t found = H5Aexists(object.get(), name.c_str());
  if (found < 0) fail_hdf5(path_, path, fmt::format("cannot look for attribute '{}'", name));
  return found > 0;
}

// ---- attributes -------------------------------------------------------------------------------

namespace {

// `length`: a 1-D attribute of that many values; none: a scalar.
void write_attribute(H5File& f, hid_t file, FileMode mode, const std::string& object_in, const std::string& name,
                     hid_t type, hid_t mem_type, const void* value, std::optional<hsize_t> length = std::nullopt) {
  const std::string path = normalise_path(object_in);
  const std::string& file_path = f.path();
  if (file < 0) fail(file_path, path, "the file is closed");
  if (mode == FileMode::ReadOnly) fail(file_path, path, fmt::format("cannot write attribute '{}': the file is open read-only", name));
  if (object_kind(file, path) == H5I_BADID) f.create_group(path);
  Handle object = open_object(file, file_path, path);
  if (H5Aexists(object.get(), name.c_str()) > 0 && H5Adelete(object.get(), name.c_str()) < 0)
    fail_hdf5(file_path, path, fmt::format("cannot replace attribute '{}'", name));
  Handle space = detail::dataspace_handle(length ? H5Screate_simple(1, &*length, nullptr) : H5Screate(H5S_SCALAR));
  Handle acpl = detail::plist_handle(H5Pcreate(H5P_ATTRIBUTE_CREATE));
  H5Pset_char_encoding(acpl.get(), H5T_CSET_UTF8);
  Handle attribute = detail::attribute_handle(H5Acreate2(object.get(), name.c_str(), type, space.get(), acpl.get(), H5P_DEFAULT));
  if (!attribute.valid()) fail_hdf5(file_path, path, fmt::format("cannot create attribute '{}'", name));
  if (length == hsize_t{0}) return;  // nothing to write (and no buffer)
  if (H5Awrite(attribute.get(), mem_type, value) < 0) fail_hdf5(file_path, path, fmt::format("cannot write attribute '{}'", name));
}

struct OpenedAttribute {
  Handle attribute;
  Handle type;
  std::string what;  // "attribute 'name'", for messages
};

// Opens an attribute of any shape; `points` receives its number of values.
OpenedAttribute open_attribute_array(hid_t file, const std::string& file_path, const std::string& path,
                                     const std::string& name, std::int64_t& points) {
  Handle object = open_object(file, file_path, path);
  OpenedAttribute out;
  out.what = fmt::format("attribute '{}'", name);
  if (H5Aexists(object.get(), name.c_str()) <= 0) fail(file_path, path, fmt::format("no {}", out.what));
  out.attribute = detail::attribute_handle(H5Aopen(object.get(), name.c_str(), H5P_DEFAULT));
  if (!out.attribute.valid()) fail_hdf5(file_path, path, fmt::format("cannot open {}", out.what));
  out.type = detail::type_handle(H5Aget_type(out.attribute.get()));
  Handle space = detail::dataspace_handle(H5Aget_space(out.attribute.get()));
  points = count_points(space.get());
  return out;
}

OpenedAttribute open_attribute(hid_t file, const std::string& file_path, const std::string& path,
                               const std::string& name) {
  std::int64_t n = 0;
  OpenedAttribute out = open_attribute_array(file, file_path, path, name, n);
  if (n != 1) fail(file_path, path, fmt::format("{}: expected one value, found {}", out.what, n));
  return out;
}

[[noreturn]] void wrong_attribute_type(const std::string& file, const std::string& path, const OpenedAttribute& a,
                                       const char* expected) {
  fail(file, path, fmt::format("{}: expected {}, found {}", a.what, expected, detail::describe_type(a.type.get())));
}

}  // namespace

void H5File::write_string_attribute(const std::string& object, const std::string& name, std::string_view value) {
  H5Lock lock;
  Handle type = detail::string_type();
  const std::string copy(value);  // NUL-terminated
  const char* data = copy.c_str();
  write_attribute(*this, id_, mode_, object, name, type.get(), type.get(), &data);
}

void H5File::write_int_attribute(const std::string& object, const std::string& name, std::int64_t value) {
  H5Lock lock;
  write_attribute(*this, id_, mode_, object, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

void H5File::write_uint_attribute(const std::string& object, const std::string& name, std::uint64_t value) {
  H5Lock lock;
  write_attribute(*this, id_, mode_, object, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &value);
}

void H5File::write_double_attribute(const std::string& object, const std::string& name, double value) {
  H5Lock lock;
  write_attribute(*this, id_, mode_, object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

std::string H5File::read_string_attribute(const std::string& object, const std::string& name) const {
  H5Lock lock;
  const std::string path = normalise_path(object);
  OpenedAttribute a = open_attribute(id_, path_, path, name);
  if (H5Tget_class(a.type.get()) != H5T_STRING) wrong_attribute_type(path_, path, a, "a string");
  const hid_t attribute = a.attribute.get();
  return read_string_value(a.type.get(), [attribute](hid_t mem, void* buf) { return H5Aread(attribute, mem, buf); },
                           path_, path);
}

std::int64_t H5File::read_int_attribute(const std::string& object, const std::string& name) const {
  H5Lock lock;
  const std::string path = normalise_path(object);
  OpenedAttribute a = open_attribute(id_, path_, path, name);
  if (H5Tget_class(a.type.get()) != H5T_INTEGER) wrong_attribute_type(path_, path, a, "an integer");
  if (H5Tget_sign(a.type.get()) == H5T_SGN_NONE && H5Tget_size(a.type.get()) == 8) {
    std::uint64_t value = 0;
    if (H5Aread(a.attribute.get(), H5T_NATIVE_UINT64, &value) < 0) fail_hdf5(path_, path, "cannot read " + a.what);
    if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      fail(path_, path, fmt::format("{}: expected an int64, found {} (too large)", a.what, value));
    return static_cast<std::int64_t>(value);
  }
  std::int64_t value = 0;
  if (H5Aread(a.attribute.get(), H5T_NATIVE_INT64, &value) < 0) fail_hdf5(path_, path, "cannot read " + a.what);
  return value;
}

std::uint64_t H5File::read_uint_attribute(const std::string& object, const std::string& name) const {
  H5Lock lock;
  const std::string path = normalise_path(object);
  OpenedAttribute a = open_attribute(id_, path_, path, name);
  if (H5Tget_class(a.type.get()) != H5T_INTEGER) wrong_attribute_type(path_, path, a, "an unsigned integer");
  if (H5Tget_sign(a.type.get()) == H5T_SGN_2) {
    std::int64_t value = 0;
    if (H5Aread(a.attribute.get(), H5T_NATIVE_INT64, &value) < 0) fail_hdf5(path_, path, "cannot read " + a.what);
    if (value < 0) fail(path_, path, fmt::format("{}: expected an unsigned integer, found {}", a.what, value));
    return static_cast<std::uint64_t>(value);
  }
  std::uint64_t value = 0;
  if (H5Aread(a.attribute.get(), H5T_NATIVE_UINT64, &value) < 0) fail_hdf5(path_, path, "cannot read " + a.what);
  return value;
}

double H5File::read_double_attribute(const std::string& object, const std::string& name) const {
  H5Lock lock;
  const std::string path = normalise_path(object);
  OpenedAttribute a = open_attribute(id_, path_, path, name);
  const H5T_class_t cls = H5Tget_class(a.type.get());
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) wrong_attribute_type(path_, path, a, "a number");
  double value = 0;
  if (H5Aread(a.attribute.get(), H5T_NATIVE_DOUBLE, &value) < 0) fail_hdf5(path_, path, "cannot read " + a.what);
  return value;
}

std::vector<double> H5File::read_double_list_attribute(const std::string& object, const std::string& name) const {
  H5Lock lock;
  const std::string path = normalise_path(object);
  std::int64_t n = 0;
  OpenedAttribute a = open_attribute_array(id_, path_, path, name, n);
  const H5T_class_t cls = H5Tget_class(a.type.get());
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) wrong_attribute_type(path_, path, a, "numbers");
  std::vector<double> values(static_cast<std::size_t>(n));
  if (n > 0 && H5Aread(a.attribute.get(), H5T_NATIVE_DOUBLE, values.data()) < 0)
    fail_hdf5(path_, path, "cannot read " + a.what);
  return values;
}

void H5File::write_string_list_attribute(const std::string& object, const std::string& name,
                                         const std::vector<std::string>& values) {
  H5Lock lock;
  Handle type = detail::string_type();
  std::vector<const char*> data;
  data.reserve(values.size());
  for (const std::string& v : values) data.push_back(v.c_str());
  write_attribute(*this, id_, mode_, object, name, type.get(), type.get(), data.data(), values.size());
}

std::vector<std::string> H5File::read_string_list_attribute(const std::string& object, const std::string& name) const {
  H5Lock lock;
  const std::string path = normalise_path(object);
  std::int64_t n = 0;
  OpenedAttribute a = open_attribute_array(id_, path_, path, name, n);
  const hid_t file_type = a.type.get();
  if (H5Tget_class(file_type) != H5T_STRING) wrong_attribute_type(path_, path, a, "strings");
  if (n == 0) return {};
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(n));
  if (H5Tis_variable_str(file_type) > 0) {
    Handle mem = detail::string_type();
    H5Tset_cset(mem.get(), H5Tget_cset(file_type));
    std::vector<char*> values(static_cast<std::size_t>(n), nullptr);
    if (H5Aread(a.attribute.get(), mem.get(), values.data()) < 0) fail_hdf5(path_, path, "cannot read " + a.what);
    for (char* v : values) {
      out.emplace_back(v ? v : "");
      H5free_memory(v);  // one allocation per string (H5Treclaim is missing from some 1.10 builds)
    }
    return out;
  }
  // Fixed length (numpy bytes arrays in h5py): n strings of `size` bytes each, padding dropped.
  const std::size_t size = H5Tget_size(file_type);
  Handle mem = detail::type_handle(H5Tcopy(file_type));
  std::string buffer(size * static_cast<std::size_t>(n), '\0');
  if (H5Aread(a.attribute.get(), mem.get(), buffer.data()) < 0) fail_hdf5(path_, path, "cannot read " + a.what);
  const char pad = H5Tget_strpad(file_type) == H5T_STR_SPACEPAD ? ' ' : '\0';
  for (std::int64_t i = 0; i < n; ++i) {
    std::string v = buffer.substr(static_cast<std::size_t>(i) * size, size);
    if (const auto nul = v.find('\0'); nul != std::string::npos) v.resize(nul);
    while (!v.empty() && v.back() == pad) v.pop_back();
    out.push_back(std::move(v));
  }
  return out;
}

// ---- string datasets --------------------------------------------------------------------------

void H5File::write_string(const std::string& path_in, std::string_view value) {
  H5Lock lock;
  const std::string path = normalise_path(path_in);
  if (id_ < 0) fail(path_, path, "the file is closed");
  if (mode_ == FileMode::ReadOnly) fail(path_, path, "cannot write: the file is open read-only");
  const H5I_type_t kind = object_kind(id_, path);
  if (kind == H5I_DATASET) H5Ldelete(id_, path.c_str(), H5P_DEFAULT);
  else if (kind != H5I_BADID) fail(path_, path, fmt::format("cannot write a string: expected nothing or a dataset, found {}", kind_name(kind)));
  Handle type = detail::string_type();
  Handle space = detail::dataspace_handle(H5Screate(H5S_SCALAR));
  Handle lcpl = link_create_plist();
  Handle dataset = detail::dataset_handle(H5Dcreate2(id_, path.c_str(), type.get(), space.get(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!dataset.valid()) fail_hdf5(path_, path, "cannot create the dataset");
  const std::string copy(value);
  const char* data = copy.c_str();
  if (H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &data) < 0) fail_hdf5(path_, path, "cannot write");
}

std::string H5File::read_string(const std::string& path_in) const {
  H5Lock lock;
  const std::string path = normalise_path(path_in);
  if (id_ < 0) fail(path_, path, "the file is closed");
  const H5I_type_t kind = object_kind(id_, path);
  if (kind != H5I_DATASET) fail(path_, path, fmt::format("expected a string dataset, found {}", kind_name(kind)));
  Handle dataset = detail::dataset_handle(H5Dopen2(id_, path.c_str(), H5P_DEFAULT));
  if (!dataset.valid()) fail_hdf5(path_, path, "cannot open the dataset");
  Handle type = detail::type_handle(H5Dget_type(dataset.get()));
  if (H5Tget_class(type.get()) != H5T_STRING)
    fail(path_, path, fmt::format("expected a string, found {}", detail::describe_type(type.get())));
  Handle space = detail::dataspace_handle(H5Dget_space(dataset.get()));
  const std::int64_t n = count_points(space.get());
  if (n != 1) fail(path_, path, fmt::format("expected one string, found {}", n));
  const hid_t id = dataset.get();
  return read_string_value(type.get(), [id](hid_t mem, void* buf) { return H5Dread(id, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf); },
                           path_, path);
}

// ---- one-shot helpers -------------------------------------------------------------------------

namespace {

H5File open_for(const std::string& file, const std::string& dataset) {
  try {
    return H5File(file, FileMode::ReadOnly);
  } catch (const IOError& e) {
    throw IOError(fmt::format("{} (reading {})", e.what(), normalise_path(dataset)));
  }
}

}  // namespace

Tensor read_tensor(const std::string& file, const std::string& dataset) {
  return open_for(file, dataset).read_tensor(dataset);
}

Tensor read_tensor(const std::string& file, const std::string& dataset, DType dtype, std::int64_t rank) {
  return open_for(file, dataset).read_tensor(dataset, dtype, rank);
}

}  // namespace loom::io
