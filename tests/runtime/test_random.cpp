// Philox4x32-10 known answers, seeding, reproducibility across threads and backends, and the
// statistics of the random factories.
#include <algorithm>
#include <cmath>

#include "common/unit_helpers.hpp"
#include "loom/backend.hpp"
#include "loom/random.hpp"
#include "loom/runtime.hpp"

using namespace loom_test;
using loom::DType;
using loom::Philox4;

namespace {
void check_philox(Philox4 ctr, std::uint32_t k0, std::uint32_t k1, Philox4 expected) {
  const Philox4 r = loom::philox4x32_10(ctr, k0, k1);
  for (int i = 0; i < 4; ++i) {
    INFO("word " << i << ": found " << std::hex << r.v[i] << ", expected " << expected.v[i]);
    CHECK(r.v[i] == expected.v[i]);
  }
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / double(v.size());
}
double variance_of(const std::vector<double>& v) {
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return s / double(v.size() - 1);
}

// rand, randn and bernoulli drawn in sequence from a fresh seed.
std::vector<std::vector<double>> draw_all(std::uint64_t seed) {
  loom::manual_seed(seed);
  return {values(loom::rand({1000})), values(loom::randn({17, 33})),
          values(loom::bernoulli({999}, 0.3)), values(loom::rand({5}, DType::Float64))};
}
}  // namespace

TEST_SUITE("random") {

// Known-answer vectors from Random123's kat_vectors (Salmon et al., SC'11).
TEST_CASE("philox4x32_10: zero counter and key") {
  check_philox({{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}});
}

TEST_CASE("philox4x32_10: all-ones counter and key") {
  check_philox({{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}}, 0xffffffff, 0xffffffff,
               {{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}});
}

TEST_CASE("philox4x32_10: digits of pi") {
  check_philox({{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}}, 0xa4093822, 0x299f31d0,
               {{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}});
}

TEST_CASE("philox_unit stays in [0, 1)") {
  const loom::PhiloxKey key{7, 0};
  for (std::uint64_t i = 0; i < 10000; ++i) {
    const float f = loom::philox_unit<float>(key, i);
    const double d = loom::philox_unit<double>(key, i);
    REQUIRE(f >= 0.0f);
    REQUIRE(f < 1.0f);
    REQUIRE(d >= 0.0);
    REQUIRE(d < 1.0);
  }
}

TEST_CASE("the same seed gives identical rand, randn and bernoulli") {
  CHECK(draw_all(1234) == draw_all(1234));
}

TEST_CASE("different seeds give different numbers") {
  const auto a = draw_all(1);
  const auto b = draw_all(2);
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] != b[i]);
}

TEST_CASE("consecutive calls give different numbers and advance the offset") {
  loom::manual_seed(5);
  const auto before = loom::generator_state();
  CHECK(before.seed == 5);
  CHECK(before.offset == 0);
  auto a = values(loom::rand({100}));
  auto b = values(loom::rand({100}));
  CHECK(a != b);
  CHECK(loom::generator_state().offset > before.offset);
}

TEST_CASE("restoring the generator state replays the same numbers") {
  loom::manual_seed(11);
  values(loom::rand({10}));
  const auto state = loom::generator_state();
  auto a = values(loom::randn({50}));
  loom::set_generator_state(state);
  CHECK(values(loom::randn({50})) == a);
}

TEST_CASE("rand element i is philox_unit of (seed, offset + i)") {
  loom::manual_seed(99);
  const auto state = loom::generator_state();
  auto r = values(loom::rand({64}, DType::Float64));
  const loom::PhiloxKey key{state.seed, state.offset};
  for (std::uint64_t i = 0; i < 64; ++i) CHECK(r[i] == loom::philox_unit<double>(key, i));
}

TEST_CASE("random tensors are identical with 1 and 2 threads") {
  const int saved = loom::num_threads();
  loom::set_num_threads(1);
  const auto one = draw_all(77);
  auto big_one = values(loom::randn({300, 400}));
  loom::set_num_threads(2);
  const auto two = draw_all(77);
  auto big_two = values(loom::randn({300, 400}));
  loom::set_num_threads(saved);
  CHECK(one == two);
  CHECK(big_one == big_two);
}

TEST_CASE("random tensors are identical on the cpu and cpu-reference backends") {
  loom::manual_seed(2024);
  const auto fast = draw_all(2024);
  loom::set_backend(loom::DeviceType::CPU, "cpu-reference");
  const auto reference = draw_all(2024);
  loom::set_backend(loom::DeviceType::CPU, "cpu");
  CHECK(loom::backend_for(loom::kCPU).name() == "cpu");
  CHECK(fast == reference);
}

TEST_CASE("uniform: mean 1/2 and variance 1/12 over 1e5 samples") {
  loom::manual_seed(0);
  auto v = values(loom::rand({100000}));
  // Standard errors: 0.29/sqrt(1e5) ~ 1e-3 for the mean; tolerances are about 5 of them.
  CHECK(std::abs(mean_of(v) - 0.5) < 0.005);
  CHECK(std::abs(variance_of(v) - 1.0 / 12) < 0.001);
  CHECK(*std::min_element(v.begin(), v.end()) >= 0.0);
  CHECK(*std::max_element(v.begin(), v.end()) < 1.0);
}

TEST_CASE("uniform_ on [low, high)") {
  loom::manual_seed(3);
  auto x = loom::empty({100000});
  x.uniform_(-2.0, 6.0);
  auto v = values(x);
  CHECK(std::abs(mean_of(v) - 2.0) < 0.04);
  CHECK(*std::min_element(v.begin(), v.end()) >= -2.0);
  CHECK(*std::max_element(v.begin(), v.end()) < 6.0);
}

TEST_CASE("normal: mean 0 and variance 1 over 1e5 samples") {
  loom::manual_seed(0);
  auto v = values(loom::randn({100000}));
  CHECK(std::abs(mean_of(v)) < 0.016);
  CHECK(std::abs(variance_of(v) - 1.0) < 0.03);
  // About 68.3% within one standard deviation.
  double inside = 0;
  for (double x : v) inside += std::abs(x) < 1.0;
  CHECK(std::abs(inside / double(v.size()) - 0.6827) < 0.01);
}

TEST_CASE("normal_ with mean and std") {
  loom::manual_seed(4);
  auto x = loom::empty({100000}, DType::Float64);
  x.normal_(3.0, 0.5);
  auto v = values(x);
  CHECK(std::abs(mean_of(v) - 3.0) < 0.008);
  CHECK(std::abs(variance_of(v) - 0.25) < 0.008);
}

TEST_CASE("bernoulli: only 0 and 1, mean p over 1e5 samples") {
  loom::manual_seed(0);
  auto v = values(loom::bernoulli({100000}, 0.3));
  for (double x : v) REQUIRE((x == 0.0 || x == 1.0));
  // Standard error sqrt(0.21/1e5) ~ 0.0015.
  CHECK(std::abs(mean_of(v) - 0.3) < 0.0075);
  CHECK(mean_of(values(loom::bernoulli({1000}, 0.0))) == 0.0);
  CHECK(mean_of(values(loom::bernoulli({1000}, 1.0))) == 1.0);
}

TEST_CASE("randint stays in [low, high) and hits every value") {
  loom::manual_seed(8);
  auto r = loom::randint(-3, 4, {10000});
  CHECK(r.dtype() == DType::Int64);
  auto v = r.to_vector<i64>();
  std::vector<int> seen(7, 0);
  for (auto x : v) {
    REQUIRE(x >= -3);
    REQUIRE(x < 4);
    seen[std::size_t(x + 3)] = 1;
  }
  CHECK(std::count(seen.begin(), seen.end(), 1) == 7);
}

}  // TEST_SUITE
