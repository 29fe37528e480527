#pragma once
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11): a
// counter-based generator. Every backend turns (seed, offset + i) into element i with these
// same functions, so random tensors do not depend on threads, strides or device.
#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define LOOM_HOST_DEVICE __host__ __device__
#else
#define LOOM_HOST_DEVICE
#endif

namespace loom {

// The generator state handed to a random primitive: element i uses counter (offset + i).
struct PhiloxKey {
  std::uint64_t seed = 0;
  std::uint64_t offset = 0;
};

struct Philox4 {
  std::uint32_t v[4];
};

LOOM_HOST_DEVICE inline Philox4 philox4x32_10(Philox4 ctr, std::uint32_t k0, std::uint32_t k1) {
  constexpr std::uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;
  constexpr std::uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) { k0 += W0; k1 += W1; }
    std::uint64_t p0 = std::uint64_t(M0) * ctr.v[0];
    std::uint64_t p1 = std::uint64_t(M1) * ctr.v[2];
    std::uint32_t hi0 = std::uint32_t(p0 >> 32), lo0 = std::uint32_t(p0);
    std::uint32_t hi1 = std::uint32_t(p1 >> 32), lo1 = std::uint32_t(p1);
    ctr = Philox4{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
  }
  return ctr;
}

// The four 32-bit words for element i of a call keyed by `key`.
LOOM_HOST_DEVICE inline Philox4 philox_bits(PhiloxKey key, std::uint64_t i) {
  std::uint64_t c = key.offset + i;
  return philox4x32_10(Philox4{{std::uint32_t(c), std::uint32_t(c >> 32), 0u, 0u}},
                       std::uint32_t(key.seed), std::uint32_t(key.seed >> 32));
}

// Uniform in [0, 1) with 53 random bits.
LOOM_HOST_DEVICE inline double philox_unit_double(std::uint32_t hi, std::uint32_t lo) {
  return double(((std::uint64_t(hi) << 32) | lo) >> 11) * 0x1.0p-53;
}

// Uniform in [0, 1) for element i; float32 uses 24 bits so that it never rounds up to 1.
template <typename T>
LOOM_HOST_DEVICE inline T philox_unit(PhiloxKey key, std::uint64_t i) {
  Philox4 r = philox_bits(key, i);
  if constexpr (sizeof(T) == 4) {
    return T(r.v[0] >> 8) * T(0x1.0p-24);
  } else {
    return T(philox_unit_double(r.v[0], r.v[1]));
  }
}

// Standard normal for element i (Box–Muller on words 0–1 and 2–3, computed in double).
LOOM_HOST_DEVICE inline double philox_standard_normal(PhiloxKey key, std::uint64_t i) {
  Philox4 r = philox_bits(key, i);
  double u1 = 1.0 - philox_unit_double(r.v[0], r.v[1]);  // (0, 1]: log is finite
  double u2 = philox_unit_double(r.v[2], r.v[3]);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586476925 * u2);
}

}  // namespace loom
