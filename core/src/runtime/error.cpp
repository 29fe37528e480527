// Error classes are defined here (their key functions), so their typeinfo lives in libloom.so
// and a plugin's exception is caught by type in the caller.
#include "loom/error.hpp"

namespace loom {

Error::Error(const std::string& message) : std::runtime_error(message) {}
Error::~Error() = default;

#define LOOM_DEFINE_ERROR(Name)                               \
  Name::Name(const std::string& message) : Error(message) {} \
  Name::~Name() = default;

LOOM_DEFINE_ERROR(ShapeError)
LOOM_DEFINE_ERROR(DTypeError)
LOOM_DEFINE_ERROR(DeviceError)
LOOM_DEFINE_ERROR(IndexError)
LOOM_DEFINE_ERROR(ValueError)
LOOM_DEFINE_ERROR(PluginError)
LOOM_DEFINE_ERROR(IOError)
#undef LOOM_DEFINE_ERROR

const char* error_type_name(const std::exception& e) {
  if (dynamic_cast<const ShapeError*>(&e)) return "ShapeError";
  if (dynamic_cast<const DTypeError*>(&e)) return "DTypeError";
  if (dynamic_cast<const DeviceError*>(&e)) return "DeviceError";
  if (dynamic_cast<const IndexError*>(&e)) return "IndexError";
  if (dynamic_cast<const ValueError*>(&e)) return "ValueError";
  if (dynamic_cast<const PluginError*>(&e)) return "PluginError";
  if (dynamic_cast<const IOError*>(&e)) return "IOError";
  if (dynamic_cast<const Error*>(&e)) return "Error";
  return "error";
}

}  // namespace loom
