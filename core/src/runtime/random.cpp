// The per-device Philox generator state: (seed, offset). Global state lives here, once.
#include <array>
#include <mutex>

#include "loom/random.hpp"

namespace loom {

namespace {
constexpr std::uint64_t kDefaultSeed = 67280421310721ull;  // PyTorch's default seed
constexpr int kMaxDevices = 64;
struct Generators {
  std::mutex mutex;
  std::array<GeneratorState, kMaxDevices * kNumDeviceTypes> states;
  Generators() { states.fill(GeneratorState{kDefaultSeed, 0}); }
};
Generators& generators() {
  static Generators g;
  return g;
}
std::size_t slot(Device d) {
  return static_cast<std::size_t>(d.type) * kMaxDevices + static_cast<std::size_t>(d.index % kMaxDevices);
}
}  // namespace

void manual_seed(std::uint64_t seed) {
  Generators& g = generators();
  std::lock_guard lock(g.mutex);
  g.states.fill(GeneratorState{seed, 0});
}

GeneratorState generator_state(Device device) {
  Generators& g = generators();
  std::lock_guard lock(g.mutex);
  return g.states[slot(device)];
}

void set_generator_state(GeneratorState state, Device device) {
  Generators& g = generators();
  std::lock_guard lock(g.mutex);
  g.states[slot(device)] = state;
}

PhiloxKey next_philox_key(Device device, std::uint64_t count) {
  Generators& g = generators();
  std::lock_guard lock(g.mutex);
  GeneratorState& s = g.states[slot(device)];
  PhiloxKey key{s.seed, s.offset};
  s.offset += count;
  return key;
}

}  // namespace loom
