#pragma once
// Typed errors. Every message names the operation, what was expected and what was found,
// e.g. "add: shapes (2, 3) and (4, 3) are not broadcastable: dim 0 has 2 vs 4".
#include <stdexcept>
#include <string>

#include "loom/export.hpp"

namespace loom {

class LOOM_API Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message);
  ~Error() override;
};

#define LOOM_DECLARE_ERROR(Name)                        \
  class LOOM_API Name : public Error {                  \
   public:                                              \
    explicit Name(const std::string& message);          \
    ~Name() override;                                   \
  };

LOOM_DECLARE_ERROR(ShapeError)   // sizes that do not fit together
LOOM_DECLARE_ERROR(DTypeError)   // a dtype an op does not take, or a failed promotion
LOOM_DECLARE_ERROR(DeviceError)  // tensors on different devices, an unknown device, no backend
LOOM_DECLARE_ERROR(IndexError)   // an index or dim out of range
LOOM_DECLARE_ERROR(ValueError)   // an argument value out of its domain (negative size, bad step)
LOOM_DECLARE_ERROR(PluginError)  // a plugin that cannot be found, loaded or registered
LOOM_DECLARE_ERROR(IOError)      // files: missing, corrupt, wrongly laid out
#undef LOOM_DECLARE_ERROR

// "ValueError", "IOError", ... for a Loom error, "Error" for another loom::Error, "error" for
// any other exception: how programs print an error's type before its message.
LOOM_API const char* error_type_name(const std::exception& e);

}  // namespace loom
