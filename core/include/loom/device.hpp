#pragma once
// Devices are named "cpu", "cuda:0", "cuda:1", ...
#include <string>
#include <string_view>

#include "loom/export.hpp"

namespace loom {

enum class DeviceType : unsigned char { CPU, CUDA };
inline constexpr int kNumDeviceTypes = 2;

struct LOOM_API Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  constexpr Device() = default;
  constexpr Device(DeviceType t, int i = 0) : type(t), index(i) {}
  // Parses "cpu", "cuda", "cuda:1"; throws DeviceError naming the text otherwise.
  Device(std::string_view name);  // NOLINT(google-explicit-constructor): Device("cuda:0")
  Device(const char* name) : Device(std::string_view(name)) {}

  std::string str() const;
  friend constexpr bool operator==(Device a, Device b) { return a.type == b.type && a.index == b.index; }
};

LOOM_API std::string_view device_type_name(DeviceType t);  // "cpu", "cuda"
inline constexpr Device kCPU{DeviceType::CPU, 0};

}  // namespace loom
