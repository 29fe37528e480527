// Tests of loom/data/transforms.hpp: each transform against a plain reference written here;
// randomness a function of (seed, epoch, index); draws with the right statistics; masks that
// move with their images under crop and flip and are left alone by photometric transforms;
// and every bad input or argument, with its message.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/test_helpers.hpp"
#include "loom/data/transforms.hpp"

using loom::Tensor;
using loom_test::contains;
using loom_test::message_of;
namespace data = loom::data;
using i64 = std::int64_t;

namespace {

// (C, H, W) float32 with distinct positive pixels c·10000 + y·100 + x + 1, so that where a
// pixel went can be read off its value.
Tensor distinct_image(i64 C, i64 H, i64 W) {
  std::vector<float> v;
  for (i64 c = 0; c < C; ++c)
    for (i64 y = 0; y < H; ++y)
      for (i64 x = 0; x < W; ++x) v.push_back(static_cast<float>(c * 10000 + y * 100 + x + 1));
  return loom::from_vector(v, {C, H, W});
}

// (H, W) int64 mask whose entry is the value of channel 0 of distinct_image at the same pixel.
Tensor matching_mask(i64 H, i64 W) {
  std::vector<i64> v;
  for (i64 y = 0; y < H; ++y)
    for (i64 x = 0; x < W; ++x) v.push_back(y * 100 + x + 1);
  return loom::from_vector(v, {H, W});
}

data::Example run(const data::TransformPtr& t, const Tensor& input, const Tensor& target = Tensor(),
                  std::uint64_t seed = 7, i64 epoch = 0, i64 index = 0) {
  data::SampleRandom random(seed, epoch, index);
  return t->apply({input.clone(), target.defined() ? target.clone() : Tensor()}, random);
}

std::vector<float> floats(const Tensor& t) { return t.to_vector<float>(); }

// The reference crop: pads x (C, H, W) into a (C, H + 2p, W + 2p) buffer of `fill`, then
// slices the size×size window whose corner is (top, left) in padded coordinates.
std::vector<float> reference_crop(const std::vector<float>& x, i64 C, i64 H, i64 W, i64 size, i64 p,
                                  float fill, i64 top, i64 left) {
  const i64 PH = H + 2 * p, PW = W + 2 * p;
  std::vector<float> padded(static_cast<std::size_t>(C * PH * PW), fill);
  for (i64 c = 0; c < C; ++c)
    for (i64 y = 0; y < H; ++y)
      for (i64 xx = 0; xx < W; ++xx) padded[(c * PH + y + p) * PW + xx + p] = x[(c * H + y) * W + xx];
  std::vector<float> out;
  for (i64 c = 0; c < C; ++c)
    for (i64 y = 0; y < size; ++y)
      for (i64 xx = 0; xx < size; ++xx) out.push_back(padded[(c * PH + top + y) * PW + left + xx]);
  return out;
}

struct Offset {
  i64 top, left;
};

// Every window corner (padded coordinates) whose reference crop equals `found`.
std::vector<Offset> matching_crops(const std::vector<float>& x, const std::vector<float>& found, i64 C, i64 H,
                                   i64 W, i64 size, i64 p, float fill) {
  std::vector<Offset> matches;
  for (i64 top = 0; top + size <= H + 2 * p; ++top)
    for (i64 left = 0; left + size <= W + 2 * p; ++left)
      if (reference_crop(x, C, H, W, size, p, fill, top, left) == found) matches.push_back({top, left});
  return matches;
}

// The reference flip: index reversal along W.
std::vector<float> reference_flip(const std::vector<float>& x, i64 rows, i64 W) {
  std::vector<float> out(x.size());
  for (i64 r = 0; r < rows; ++r)
    for (i64 i = 0; i < W; ++i) out[r * W + i] = x[r * W + (W - 1 - i)];
  return out;
}

// The rectangle (same in every channel) of an erased image, found from the pixels equal to
// `value`; nullopt when nothing was erased.
struct Rect {
  i64 top, left, h, w;
};
std::optional<Rect> erased_rect(const std::vector<float>& out, i64 H, i64 W, float value) {
  i64 y0 = H, y1 = -1, x0 = W, x1 = -1;
  for (i64 y = 0; y < H; ++y)
    for (i64 x = 0; x < W; ++x)
      if (out[y * W + x] == value) y0 = std::min(y0, y), y1 = std::max(y1, y), x0 = std::min(x0, x), x1 = std::max(x1, x);
  if (y1 < 0) return std::nullopt;
  return Rect{y0, x0, y1 - y0 + 1, x1 - x0 + 1};
}

// The reference erasing: x with `rect` set to value in every channel.
std::vector<float> reference_erase(std::vector<float> x, i64 C, i64 H, i64 W, Rect r, float value) {
  for (i64 c = 0; c < C; ++c)
    for (i64 y = r.top; y < r.top + r.h; ++y)
      for (i64 xx = r.left; xx < r.left + r.w; ++xx) x[(c * H + y) * W + xx] = value;
  return x;
}

}  // namespace

// ---- SampleRandom -----------------------------------------------------------------------------

TEST_CASE("SampleRandom: a function of (seed, epoch, index), in range, uniform") {
  auto draws = [](std::uint64_t seed, i64 epoch, i64 index) {
    data::SampleRandom r(seed, epoch, index);
    std::vector<double> v;
    for (int i = 0; i < 8; ++i) v.push_back(r.uniform());
    return v;
  };
  CHECK(draws(1, 2, 3) == draws(1, 2, 3));
  CHECK(draws(1, 2, 3) != draws(1, 2, 4));
  CHECK(draws(1, 2, 3) != draws(1, 3, 3));
  CHECK(draws(1, 2, 3) != draws(2, 2, 3));
  // Successive numbers differ, and no two of many (seed, epoch, index) streams start alike.
  std::vector<double> first = draws(1, 2, 3);
  CHECK(std::set<double>(first.begin(), first.end()).size() == first.size());
  std::set<double> starts;
  for (std::uint64_t seed = 0; seed < 4; ++seed)
    for (i64 epoch = 0; epoch < 4; ++epoch)
      for (i64 index = 0; index < 64; ++index) starts.insert(draws(seed, epoch, index)[0]);
  CHECK(starts.size() == 4 * 4 * 64);

  // uniform in [0, 1) with mean 1/2; integer covers [low, high] evenly; bernoulli at rate p.
  const int n = 20000;
  double sum = 0;
  std::vector<int> counts(5, 0);
  int hits = 0;
  for (int i = 0; i < n; ++i) {
    data::SampleRandom r(11, 0, i);
    const double u = r.uniform();
    CHECK((u >= 0.0 && u < 1.0));
    sum += u;
    const i64 k = r.integer(-2, 2);
    REQUIRE((k >= -2 && k <= 2));
    ++counts[static_cast<std::size_t>(k + 2)];
    hits += r.bernoulli(0.3);
    const double w = r.uniform(-3.0, -1.0);
    CHECK((w >= -3.0 && w < -1.0));
    CHECK(r.integer(4, 4) == 4);
  }
  CHECK(sum / n == doctest::Approx(0.5).epsilon(0.02));
  for (int c : counts) CHECK(std::abs(c - n / 5) < 300);  // sd ≈ 57
  CHECK(std::abs(hits - 0.3 * n) < 330);                  // sd ≈ 65
}

TEST_CASE("SampleRandom: bad arguments") {
  data::SampleRandom r(1, 0, 0);
  const auto msg = message_of<loom::ValueError>([&] { r.integer(5, 4); });
  CHECK(contains(msg, "low"));
  CHECK(contains(msg, "[5, 4]"));
  CHECK(contains(message_of<loom::IndexError>([] { data::SampleRandom(1, 0, -1); }), "-1"));
}

// ---- random crop ------------------------------------------------------------------------------

TEST_CASE("random_crop: equals pad-then-slice at some window, for several shapes and draws") {
  struct Case {
    i64 C, H, W, size, padding;
    float fill;
  };
  for (Case k : {Case{3, 10, 12, 8, 3, -1.5f}, Case{1, 28, 28, 28, 4, 0.0f}, Case{2, 6, 9, 8, 1, 2.0f},
                 Case{1, 5, 5, 2, 4, -3.0f}, Case{2, 7, 7, 7, 0, 0.0f}}) {
    INFO("C=" << k.C << " H=" << k.H << " W=" << k.W << " size=" << k.size << " padding=" << k.padding);
    auto crop = data::random_crop(k.size, k.padding, k.fill);
    const Tensor x = distinct_image(k.C, k.H, k.W);
    const auto xv = floats(x);
    for (i64 index = 0; index < 12; ++index) {
      const data::Example e = run(crop, x, Tensor(), 3, 0, index);
      REQUIRE(e.input.sizes() == loom::Shape{k.C, k.size, k.size});
      CHECK(e.input.dtype() == loom::DType::Float32);
      CHECK(!matching_crops(xv, floats(e.input), k.C, k.H, k.W, k.size, k.padding, k.fill).empty());
    }
    if (k.padding == 0 && k.size == k.H && k.size == k.W) CHECK(floats(run(crop, x).input) == xv);
  }
}

TEST_CASE("random_crop: a non-contiguous image is read in its logical order") {
  const Tensor stored = distinct_image(2, 9, 7);       // (C, W, H) in memory
  const Tensor x = stored.transpose(1, 2);             // (2, 7, 9), not contiguous
  REQUIRE(!x.is_contiguous());
  const auto xv = floats(x.contiguous());
  auto crop = data::random_crop(6, 2, -1.0);
  for (i64 index = 0; index < 8; ++index) {
    data::SampleRandom random(5, 1, index);
    const data::Example e = crop->apply({x, Tensor()}, random);
    CHECK(matching_crops(xv, floats(e.input), 2, 7, 9, 6, 2, -1.0f).size() == 1);
  }
}

TEST_CASE("random_crop: window offsets cover all 2·padding+1 positions in each axis evenly") {
  const i64 H = 8, W = 8, p = 2, positions = 2 * p + 1;
  auto crop = data::random_crop(8, p, -1.0);
  const Tensor x = distinct_image(1, H, W);
  const auto xv = floats(x);
  const int n = 5000;
  std::vector<int> cells(positions * positions, 0);
  for (int i = 0; i < n; ++i) {
    const auto m = matching_crops(xv, floats(run(crop, x, Tensor(), 19, 2, i).input), 1, H, W, 8, p, -1.0f);
    REQUIRE(m.size() == 1);
    ++cells[m[0].top * positions + m[0].left];
  }
  // Per axis: each of the 5 positions about n/5 times (sd ≈ 28).
  for (i64 t = 0; t < positions; ++t) {
    int row = 0, col = 0;
    for (i64 l = 0; l < positions; ++l) row += cells[t * positions + l], col += cells[l * positions + t];
    CHECK(std::abs(row - n / positions) < 150);
    CHECK(std::abs(col - n / positions) < 150);
  }
  // Jointly uniform too (top and left drawn independently): χ² with 24 degrees of freedom.
  const double expected = double(n) / double(cells.size());
  double chi2 = 0;
  for (int c : cells) chi2 += (c - expected) * (c - expected) / expected;
  CHECK(chi2 < 60.0);
}

TEST_CASE("random_crop: a mask of the image's (H, W) is cropped at the same window, padded with mask_fill") {
  const i64 H = 9, W = 11;
  auto crop = data::random_crop(8, 3, 0.0, -7);
  const Tensor x = distinct_image(2, H, W), mask = matching_mask(H, W);
  int with_padding = 0;
  for (i64 index = 0; index < 40; ++index) {
    const data::Example e = run(crop, x, mask, 4, 0, index);
    REQUIRE(e.target.sizes() == loom::Shape{8, 8});
    CHECK(e.target.dtype() == loom::DType::Int64);
    const auto img = floats(e.input);
    const auto m = e.target.to_vector<i64>();
    for (std::size_t i = 0; i < m.size(); ++i) {
      INFO("example " << index << ", pixel " << i);
      if (img[i] == 0.0f) CHECK(m[i] == -7);  // padding in both
      else CHECK(m[i] == static_cast<i64>(img[i]));  // channel 0 holds the mask value
    }
    with_padding += std::count(m.begin(), m.end(), -7) > 0;
  }
  CHECK(with_padding > 10);
}

TEST_CASE("random_crop: masks of other dtypes move too; other targets are left alone") {
  const Tensor x = distinct_image(1, 6, 6);
  auto crop = data::random_crop(5, 1);
  std::vector<double> mv;
  for (int i = 0; i < 36; ++i) mv.push_back(i + 1);
  const Tensor mask = loom::from_vector(mv, {6, 6});  // float64
  for (i64 index = 0; index < 10; ++index) {
    const data::Example e = run(crop, x, mask, 2, 0, index);
    REQUIRE(e.target.sizes() == loom::Shape{5, 5});
    const auto img = floats(e.input);
    const auto m = e.target.to_vector<double>();
    for (std::size_t i = 0; i < m.size(); ++i) {
      const i64 v = static_cast<i64>(img[i]) - 1;  // y·100 + x, or -1 in the padding
      CHECK(m[i] == (v < 0 ? 0.0 : double(v / 100 * 6 + v % 100 + 1)));
    }
  }
  const Tensor label = loom::tensor({3}, loom::DType::Int64).reshape({});
  const Tensor other_shape = matching_mask(6, 5), rank3 = distinct_image(1, 6, 6);
  for (const Tensor& target : {label, other_shape, rank3}) {
    const data::Example e = run(crop, x, target);
    CHECK(e.input.sizes() == loom::Shape{1, 5, 5});
    CHECK(e.target.sizes() == target.sizes());
    CHECK(e.target.to_vector<double>() == target.to_vector<double>());
  }
}

// ---- horizontal flip --------------------------------------------------------------------------

TEST_CASE("horizontal_flip: index reversal along W at rate p, with the mask") {
  const i64 C = 3, H = 5, W = 7;
  const Tensor x = distinct_image(C, H, W), mask = matching_mask(H, W);
  const auto xv = floats(x), flipped = reference_flip(xv, C * H, W);
  const auto mv = mask.to_vector<i64>();
  for (double p : {0.0, 0.2, 0.5, 1.0}) {
    INFO("p = " << p);
    auto flip = data::horizontal_flip(p);
    const int n = 4000;
    int flips = 0;
    for (int i = 0; i < n; ++i) {
      const data::Example e = run(flip, x, mask, 8, 1, i);
      const auto out = floats(e.input);
      REQUIRE((out == xv || out == flipped));
      const bool was_flipped = out == flipped;
      flips += was_flipped;
      // The mask follows: its (y, x) still names channel 0's pixel at (y, x).
      const auto m = e.target.to_vector<i64>();
      for (std::size_t j = 0; j < m.size(); ++j) REQUIRE(m[j] == static_cast<i64>(out[j]));
      if (!was_flipped) REQUIRE(m == mv);
    }
    CHECK(std::abs(flips - p * n) < 150);  // sd ≤ 32
  }
}

TEST_CASE("horizontal_flip: a non-contiguous image, and a target that is not a mask") {
  const Tensor x = distinct_image(1, 4, 6).transpose(1, 2);  // (1, 6, 4)
  const auto xv = floats(x.contiguous());
  const Tensor label = loom::tensor({5}, loom::DType::Int64);
  auto flip = data::horizontal_flip(1.0);
  data::SampleRandom random(1, 0, 0);
  const data::Example e = flip->apply({x, label.clone()}, random);
  CHECK(floats(e.input) == reference_flip(xv, 6, 4));
  CHECK(e.target.to_vector<i64>() == std::vector<i64>{5});
}

// ---- normalize --------------------------------------------------------------------------------

TEST_CASE("normalize: (x - mean[c]) / std[c], one value for every channel, mask untouched") {
  const i64 C = 3, H = 4, W = 5;
  const Tensor x = distinct_image(C, H, W), mask = matching_mask(H, W);
  const auto xv = floats(x);
  struct Case {
    std::vector<double> mean, std;
  };
  for (const Case& k : {Case{{1.0, 2.0, 3.0}, {0.5, 2.0, 4.0}}, Case{{0.25}, {3.0}}, Case{{10.0}, {1.0, 2.0, -4.0}},
                        Case{{1.0, 2.0, 3.0}, {0.1}}}) {
    const data::Example e = run(data::normalize(k.mean, k.std), x, mask);
    std::vector<double> expected;
    for (i64 c = 0; c < C; ++c) {
      const double m = k.mean[k.mean.size() == 1 ? 0 : c], s = k.std[k.std.size() == 1 ? 0 : c];
      for (i64 i = 0; i < H * W; ++i) expected.push_back((xv[c * H * W + i] - m) / s);
    }
    loom_test::check_close(e.input.to_vector<double>(), expected, 1e-6, 1e-5);
    CHECK(e.target.to_vector<i64>() == mask.to_vector<i64>());
  }
}

TEST_CASE("normalize: bad mean/std") {
  CHECK(contains(message_of<loom::ValueError>([] { data::normalize({0.5}, {0.0}); }), "std 0"));
  CHECK(contains(message_of<loom::ValueError>([] { data::normalize({0.5, 0.1}, {0.2, 0.0}); }), "channel 1"));
  const auto sizes = message_of<loom::ValueError>([] { data::normalize({0.1, 0.2}, {1.0, 2.0, 3.0}); });
  CHECK(contains(sizes, "mean has 2 values"));
  CHECK(contains(sizes, "std 3"));
  CHECK(contains(message_of<loom::ValueError>([] { data::normalize({}, {1.0}); }), "found 0 and 1"));
  // Two values for a three-channel image: checked when the image arrives.
  const auto channels = message_of<loom::ValueError>(
      [] { run(data::normalize({0.1, 0.2}, {1.0, 2.0}), distinct_image(3, 2, 2)); });
  CHECK(contains(channels, "Normalize"));
  CHECK(contains(channels, "2 values"));
  CHECK(contains(channels, "3 channels"));
}

// ---- brightness / contrast --------------------------------------------------------------------

TEST_CASE("brightness_contrast: (x - m)·c + m + b with b, c in range and spread over it, mask untouched") {
  const i64 C = 2, H = 6, W = 6;
  const double B = 0.2, K = 0.3;
  // Pixels in [0, 1).
  std::vector<float> v;
  for (i64 i = 0; i < C * H * W; ++i) v.push_back(static_cast<float>((i * 37 % 71) / 71.0));
  const Tensor x = loom::from_vector(v, {C, H, W}), mask = matching_mask(H, W);
  double m = 0, var = 0;
  for (float a : v) m += a;
  m /= static_cast<double>(v.size());
  for (float a : v) var += (a - m) * (a - m);
  auto jitter = data::brightness_contrast(B, K);
  double b_min = 1, b_max = -1, c_min = 2, c_max = 0;
  for (i64 index = 0; index < 400; ++index) {
    const data::Example e = run(jitter, x, mask, 6, 0, index);
    const auto y = e.input.to_vector<double>();
    // Read b and c back from the output: mean(y) = m + b, cov(x, y) = c·var(x).
    double my = 0, cov = 0;
    for (double a : y) my += a;
    my /= static_cast<double>(y.size());
    for (std::size_t i = 0; i < y.size(); ++i) cov += (v[i] - m) * (y[i] - my);
    const double b = my - m, c = cov / var;
    CHECK((b >= -B - 1e-6 && b <= B + 1e-6));
    CHECK((c >= 1 - K - 1e-6 && c <= 1 + K + 1e-6));
    b_min = std::min(b_min, b), b_max = std::max(b_max, b), c_min = std::min(c_min, c), c_max = std::max(c_max, c);
    std::vector<double> expected;
    for (float a : v) expected.push_back((a - m) * c + m + b);
    loom_test::check_close(y, expected, 1e-5, 1e-5);
    REQUIRE(e.target.to_vector<i64>() == mask.to_vector<i64>());
  }
  CHECK(b_min < -0.9 * B);
  CHECK(b_max > 0.9 * B);
  CHECK(c_min < 1 - 0.9 * K);
  CHECK(c_max > 1 + 0.9 * K);
  // Zero ranges: the identity.
  loom_test::check_close(run(data::brightness_contrast(0, 0), x).input.to_vector<double>(),
                         x.to_vector<double>(), 1e-6, 1e-6);
}

// ---- random erasing ---------------------------------------------------------------------------

TEST_CASE("random_erasing: one rectangle in every channel, area and aspect in range, at rate p") {
  const i64 C = 2, H = 40, W = 40;
  const double smin = 0.02, smax = 0.33, rmin = 0.3, rmax = 3.3;
  const float value = -1.0f;
  const Tensor x = distinct_image(C, H, W), mask = matching_mask(H, W);
  const auto xv = floats(x);
  auto erase = data::random_erasing(0.5, smin, smax, rmin, rmax, value);
  const int n = 2000;
  int erased = 0;
  double f_min = 1, f_max = 0;
  for (int i = 0; i < n; ++i) {
    const data::Example e = run(erase, x, mask, 9, 3, i);
    const auto out = floats(e.input);
    REQUIRE(e.target.to_vector<i64>() == mask.to_vector<i64>());
    const auto r = erased_rect(out, H, W, value);
    if (!r) {
      REQUIRE(out == xv);
      continue;
    }
    ++erased;
    INFO("rect top=" << r->top << " left=" << r->left << " h=" << r->h << " w=" << r->w);
    REQUIRE(out == reference_erase(xv, C, H, W, *r, value));
    CHECK((r->h < H && r->w < W));
    // h and w are rounded from sqrt(area·ratio) and sqrt(area/ratio): allow that rounding.
    const double f = double(r->h * r->w) / double(H * W);
    const double slack = (0.5 * double(r->h + r->w) + 0.75) / double(H * W);
    CHECK((f >= smin - slack && f <= smax + slack));
    CHECK((r->h + 0.5) / (r->w - 0.5) >= rmin);
    CHECK((r->h - 0.5) / (r->w + 0.5) <= rmax);
    f_min = std::min(f_min, f), f_max = std::max(f_max, f);
  }
  CHECK(std::abs(erased - n / 2) < 110);  // sd ≈ 22
  CHECK(f_min < smin + 0.02);
  CHECK(f_max > smax - 0.05);
}

TEST_CASE("random_erasing: a fixed scale and ratio erase exactly that square; p = 0 never erases") {
  const Tensor x = distinct_image(1, 40, 40);
  const auto xv = floats(x);
  auto square = data::random_erasing(1.0, 0.25, 0.25, 1.0, 1.0, 0.0);
  std::set<i64> tops;
  for (i64 index = 0; index < 50; ++index) {
    const auto r = erased_rect(floats(run(square, x, Tensor(), 1, 0, index).input), 40, 40, 0.0f);
    REQUIRE(r);
    CHECK(r->h == 20);
    CHECK(r->w == 20);
    tops.insert(r->top);
  }
  CHECK(tops.size() > 10);  // positions are drawn, not fixed
  auto never = data::random_erasing(0.0);
  for (i64 index = 0; index < 50; ++index) CHECK(floats(run(never, x, Tensor(), 1, 0, index).input) == xv);
}

// ---- compose, determinism, threads ------------------------------------------------------------

TEST_CASE("compose: applies in order, sharing one SampleRandom; str") {
  const Tensor x = distinct_image(1, 3, 3);
  const auto xv = floats(x);
  const auto ab = run(data::compose({data::normalize({1.0}, {2.0}), data::normalize({3.0}, {4.0})}), x).input;
  const auto ba = run(data::compose({data::normalize({3.0}, {4.0}), data::normalize({1.0}, {2.0})}), x).input;
  std::vector<double> expected_ab, expected_ba;
  for (float a : xv) expected_ab.push_back(((a - 1.0) / 2.0 - 3.0) / 4.0), expected_ba.push_back(((a - 3.0) / 4.0 - 1.0) / 2.0);
  loom_test::check_close(ab.to_vector<double>(), expected_ab, 1e-6);
  loom_test::check_close(ba.to_vector<double>(), expected_ba, 1e-6);

  auto crop = data::random_crop(8, 2), flip = data::horizontal_flip();
  auto both = data::compose({crop, flip});
  const Tensor img = distinct_image(2, 8, 8), mask = matching_mask(8, 8);
  for (i64 index = 0; index < 20; ++index) {
    data::SampleRandom r(4, 2, index);
    data::Example step = crop->apply({img.clone(), mask.clone()}, r);
    step = flip->apply(std::move(step), r);
    const data::Example composed = run(both, img, mask, 4, 2, index);
    CHECK(floats(composed.input) == floats(step.input));
    CHECK(composed.target.to_vector<i64>() == step.target.to_vector<i64>());
  }
  CHECK(both->str() == "Compose(RandomCrop(size=8, padding=2), HorizontalFlip(p=0.5))");
  CHECK(data::compose({data::random_crop(28, 4), data::horizontal_flip()})->str() ==
        "Compose(RandomCrop(size=28, padding=4), HorizontalFlip(p=0.5))");
  CHECK(floats(run(data::compose({}), x).input) == xv);
  CHECK(contains(message_of<loom::ValueError>([&] { data::compose({crop, nullptr}); }), "position 1"));
}

TEST_CASE("str of each transform") {
  CHECK(data::random_crop(28, 4, 0.5, 255)->str() == "RandomCrop(size=28, padding=4, fill=0.5, mask_fill=255)");
  CHECK(data::normalize({0.286}, {0.353})->str() == "Normalize(mean=[0.286], std=[0.353])");
  CHECK(data::brightness_contrast(0.2, 0.1)->str() == "BrightnessContrast(brightness=0.2, contrast=0.1)");
  CHECK(data::random_erasing()->str() == "RandomErasing(p=0.5, scale=[0.02, 0.33], ratio=[0.3, 3.3], value=0)");
}

TEST_CASE("the same (seed, epoch, index) gives the same augmentation; another epoch, index or seed another") {
  auto augment = data::compose({data::random_crop(12, 3), data::horizontal_flip(),
                                data::brightness_contrast(0.1, 0.1), data::random_erasing(0.5)});
  const Tensor x = distinct_image(1, 12, 12);
  auto out = [&](std::uint64_t seed, i64 epoch, i64 index) { return floats(run(augment, x, Tensor(), seed, epoch, index).input); };
  int other_epoch = 0, other_index = 0, other_seed = 0;
  const int n = 50;
  for (i64 i = 0; i < n; ++i) {
    REQUIRE(out(1, 0, i) == out(1, 0, i));
    other_epoch += out(1, 0, i) != out(1, 1, i);
    other_index += out(1, 0, i) != out(1, 0, i + n);
    other_seed += out(1, 0, i) != out(2, 0, i);
  }
  // Brightness/contrast alone make equal outputs all but impossible.
  CHECK(other_epoch == n);
  CHECK(other_index == n);
  CHECK(other_seed == n);
}

TEST_CASE("transforms are safe to share between threads") {
  auto augment = data::compose({data::random_crop(10, 2), data::horizontal_flip(), data::normalize({0.5}, {0.25})});
  const Tensor x = distinct_image(2, 10, 10), mask = matching_mask(10, 10);
  const i64 n = 200;
  std::vector<std::vector<float>> sequential, parallel(n);
  for (i64 i = 0; i < n; ++i) sequential.push_back(floats(run(augment, x, mask, 3, 0, i).input));
  // Each thread gets its own copies: the workers' examples belong to them alone.
  std::vector<data::Example> inputs;
  for (i64 i = 0; i < n; ++i) inputs.push_back({x.clone(), mask.clone()});
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      for (i64 i = t; i < n; i += 2) {
        data::SampleRandom random(3, 0, i);
        const data::Example e = augment->apply(inputs[i], random);
        parallel[i] = std::vector<float>(e.input.data_ptr<float>(), e.input.data_ptr<float>() + e.input.numel());
      }
    });
  for (auto& t : threads) t.join();
  CHECK(parallel == sequential);
}

// ---- bad inputs and arguments -----------------------------------------------------------------

TEST_CASE("every transform rejects a non-float32, non-(C, H, W) or undefined image, naming itself") {
  const std::vector<std::pair<std::string, data::TransformPtr>> transforms = {
      {"RandomCrop", data::random_crop(2)},
      {"HorizontalFlip", data::horizontal_flip()},
      {"Normalize", data::normalize({0.5}, {0.5})},
      {"BrightnessContrast", data::brightness_contrast(0.1, 0.1)},
      {"RandomErasing", data::random_erasing()},
      {"Compose", data::compose({data::horizontal_flip()})},
  };
  for (const auto& [name, t] : transforms) {
    INFO(name);
    const std::string who = name == "Compose" ? "HorizontalFlip" : name;
    const auto dtype = message_of<loom::DTypeError>([&] { run(t, distinct_image(1, 4, 4).to(loom::DType::Float64)); });
    CHECK(contains(dtype, who + ": expected a float32 image"));
    CHECK(contains(dtype, "found dtype float64"));
    const auto rank = message_of<loom::ShapeError>([&] { run(t, loom::zeros({4, 4})); });
    CHECK(contains(rank, who + ": expected an image of shape (C, H, W)"));
    CHECK(contains(rank, "found shape (4, 4)"));
    CHECK(contains(message_of<loom::ShapeError>([&] { run(t, loom::zeros({1, 1, 4, 4})); }), "(1, 1, 4, 4)"));
    const auto undefined = message_of<loom::ValueError>([&] {
      data::SampleRandom r(0, 0, 0);
      t->apply({Tensor(), Tensor()}, r);
    });
    CHECK(contains(undefined, who));
    CHECK(contains(undefined, "undefined"));
  }
}

TEST_CASE("random_crop: a window larger than the padded image names the sizes") {
  const auto msg = message_of<loom::ValueError>([] { run(data::random_crop(40, 4), distinct_image(1, 28, 30)); });
  CHECK(contains(msg, "RandomCrop: crop size 40"));
  CHECK(contains(msg, "(28, 30)"));
  CHECK(contains(msg, "padded by 4"));
  CHECK(contains(msg, "(36, 38)"));
  // Wide enough but too short.
  CHECK(contains(message_of<loom::ValueError>([] { run(data::random_crop(7, 1), distinct_image(1, 4, 9)); }),
                 "(6, 11)"));
}

TEST_CASE("bad construction arguments name the parameter and the value") {
  using loom::ValueError;
  CHECK(contains(message_of<ValueError>([] { data::random_crop(0); }), "size > 0, found 0"));
  CHECK(contains(message_of<ValueError>([] { data::random_crop(4, -1); }), "padding ≥ 0, found -1"));
  CHECK(contains(message_of<ValueError>([] { data::horizontal_flip(1.5); }), "p in [0, 1], found 1.5"));
  CHECK(contains(message_of<ValueError>([] { data::brightness_contrast(-0.1, 0.1); }), "brightness ≥ 0, found -0.1"));
  CHECK(contains(message_of<ValueError>([] { data::brightness_contrast(0.1, 1.5); }), "contrast in [0, 1]"));
  CHECK(contains(message_of<ValueError>([] { data::random_erasing(-0.5); }), "p in [0, 1], found -0.5"));
  CHECK(contains(message_of<ValueError>([] { data::random_erasing(0.5, 0.4, 0.3); }),
                 "scale_min 0.4 and scale_max 0.3"));
  CHECK(contains(message_of<ValueError>([] { data::random_erasing(0.5, 0.1, 0.3, 0.0, 1.0); }),
                 "ratio_min 0 and ratio_max 1"));
}
