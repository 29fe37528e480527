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

}  // namespace loom
