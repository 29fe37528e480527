// Names and small value types: dtypes, devices, shapes.
#include <charconv>

#include "loom/device.hpp"
#include "loom/check.hpp"
#include "loom/dtype.hpp"
#include "loom/shape.hpp"

namespace loom {

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::Bool: return "bool";
    case DType::UInt8: return "uint8";
    case DType::Int64: return "int64";
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
  }
  return "unknown";
}

DType promote_types(DType a, DType b) {
  // The enum is ordered bool < uint8 < int64 < float32 < float64, which is exactly PyTorch's
  // promotion lattice restricted to these types.
  return a < b ? b : a;
}

std::string_view device_type_name(DeviceType t) {
  switch (t) {
    case DeviceType::CPU: return "cpu";
    case DeviceType::CUDA: return "cuda";
  }
  return "unknown";
}

Device::Device(std::string_view name) {
  std::string_view kind = name;
  std::string_view number;
  if (auto colon = name.find(':'); colon != std::string_view::npos) {
    kind = name.substr(0, colon);
    number = name.substr(colon + 1);
  }
  if (kind == "cpu") {
    type = DeviceType::CPU;
  } else if (kind == "cuda") {
    type = DeviceType::CUDA;
  } else {
    LOOM_THROW(DeviceError, "Device: expected \"cpu\", \"cuda\" or \"cuda:N\", found \"{}\"", name);
  }
  index = 0;
  if (!number.empty()) {
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), index);
    LOOM_CHECK(ec == std::errc() && end == number.data() + number.size() && index >= 0,
               DeviceError, "Device: expected a device index ≥ 0 after ':', found \"{}\"", name);
    LOOM_CHECK(type != DeviceType::CPU || index == 0, DeviceError,
               "Device: the CPU is device \"cpu\" (index 0), found \"{}\"", name);
  }
}

std::string Device::str() const {
  if (type == DeviceType::CPU) return "cpu";
  return fmt::format("{}:{}", device_type_name(type), index);
}

std::string shape_str(const std::int64_t* d, std::size_t n) {
  std::string s = "(";
  for (std::size_t i = 0; i < n; ++i) {
    if (i) s += ", ";
    s += std::to_string(d[i]);
  }
  if (n == 1) s += ",";
  return s + ")";
}

void throw_size_overflow(const std::int64_t* d, std::size_t n, std::string_view what) {
  throw ValueError(fmt::format("the tensor of shape {} is too large: its {} does not fit in 64 bits",
                               shape_str(d, n), what));
}

std::int64_t numel_overflow(const std::int64_t* d, std::size_t n) {
  if (std::find(d, d + n, 0) != d + n) return 0;
  throw_size_overflow(d, n, "number of elements");
}

}  // namespace loom
