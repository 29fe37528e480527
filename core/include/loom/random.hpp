#pragma once
// Random numbers: one Philox generator per device, keyed by (seed, offset). The same seed, the
// same binary and the same thread count give a bit-identical run; random primitives never
// depend on the thread count at all (loom/philox.hpp).
#include <cstdint>

#include "loom/device.hpp"
#include "loom/export.hpp"
#include "loom/philox.hpp"

namespace loom {

// Seeds the generators of every device and resets their offsets.
LOOM_API void manual_seed(std::uint64_t seed);

struct GeneratorState {
  std::uint64_t seed = 0;
  std::uint64_t offset = 0;
};
LOOM_API GeneratorState generator_state(Device device = kCPU);
LOOM_API void set_generator_state(GeneratorState state, Device device = kCPU);

// Reserves `count` counters of the device's generator and returns the key for them (used by
// the core's random factories; public for extension ops that draw their own numbers).
LOOM_API PhiloxKey next_philox_key(Device device, std::uint64_t count);

}  // namespace loom
