// Channels-last: (N, C, H, W) logical, NHWC in memory, expressed by strides as in PyTorch.
#include "common/unit_helpers.hpp"

using namespace loom_test;
using loom::MemoryFormat;

TEST_SUITE("memory format") {

TEST_CASE("contiguous(ChannelsLast) strides are (HWC, 1, WC, C)") {
  auto x = iota({2, 3, 4, 5});  // N=2, C=3, H=4, W=5
  auto cl = x.contiguous(MemoryFormat::ChannelsLast);
  CHECK(sizes_of(cl) == std::vector<i64>{2, 3, 4, 5});
  CHECK(strides_of(cl) == std::vector<i64>{60, 1, 15, 3});
  CHECK(cl.is_contiguous(MemoryFormat::ChannelsLast));
  CHECK_FALSE(cl.is_contiguous());
  CHECK(cl.is_non_overlapping_and_dense());
  CHECK(values(cl) == values(x));  // same logical values, other memory order
}

TEST_CASE("empty(..., ChannelsLast) allocates channels-last strides") {
  auto e = loom::empty({2, 3, 4, 5}, loom::DType::Float32, MemoryFormat::ChannelsLast);
  CHECK(strides_of(e) == std::vector<i64>{60, 1, 15, 3});
  CHECK(e.is_contiguous(MemoryFormat::ChannelsLast));
}

TEST_CASE("contiguous(ChannelsLast) of a channels-last tensor does not copy") {
  auto cl = iota({2, 3, 4, 5}).contiguous(MemoryFormat::ChannelsLast);
  CHECK(cl.contiguous(MemoryFormat::ChannelsLast).is_alias_of(cl));
  auto back = cl.contiguous();
  CHECK_FALSE(back.is_alias_of(cl));
  CHECK(back.is_contiguous());
  CHECK(values(back) == values(cl));
}

TEST_CASE("an NHWC buffer permuted to NCHW is channels-last") {
  auto nhwc = iota({2, 4, 5, 3});
  auto nchw = nhwc.permute({0, 3, 1, 2});
  CHECK(nchw.is_contiguous(MemoryFormat::ChannelsLast));
  CHECK(nchw.suggest_memory_format() == MemoryFormat::ChannelsLast);
}

TEST_CASE("suggest_memory_format") {
  CHECK(iota({2, 3, 4, 5}).suggest_memory_format() == MemoryFormat::Contiguous);
  CHECK(iota({2, 3, 4, 5}).contiguous(MemoryFormat::ChannelsLast).suggest_memory_format() ==
        MemoryFormat::ChannelsLast);
  CHECK(iota({3, 4}).suggest_memory_format() == MemoryFormat::Contiguous);
}

TEST_CASE("unary ops on channels-last inputs give channels-last outputs") {
  auto x = iota({2, 3, 4, 5});
  auto cl = x.contiguous(MemoryFormat::ChannelsLast);
  auto y = loom::neg(cl);
  CHECK(y.is_contiguous(MemoryFormat::ChannelsLast));
  std::vector<double> expected = values(x);
  for (auto& v : expected) v = -v;
  CHECK(values(y) == expected);
  auto e = loom::exp(cl * 0.01);
  CHECK(e.is_contiguous(MemoryFormat::ChannelsLast));
  std::vector<double> expected_exp = values(x);
  for (auto& v : expected_exp) v = std::exp(static_cast<float>(v * 0.01));
  check_close(values(e), expected_exp, 1e-5);
}

TEST_CASE("binary ops on channels-last inputs give channels-last outputs") {
  auto x = iota({2, 3, 4, 5});
  auto cl = x.contiguous(MemoryFormat::ChannelsLast);
  auto sum = cl + cl;
  CHECK(sum.is_contiguous(MemoryFormat::ChannelsLast));
  auto shifted = cl + 1.0;
  CHECK(shifted.is_contiguous(MemoryFormat::ChannelsLast));
  // A per-channel bias (1, C, 1, 1) broadcast onto a channels-last activation.
  auto bias = loom::tensor({100.0, 200.0, 300.0}).view({1, 3, 1, 1});
  auto biased = cl + bias;
  CHECK(biased.is_contiguous(MemoryFormat::ChannelsLast));
  std::vector<double> xs = values(x), expected(xs.size()), expected_biased(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) {
    expected[i] = 2 * xs[i];
    const std::size_t c = (i / 20) % 3;
    expected_biased[i] = xs[i] + 100.0 * double(c + 1);
  }
  CHECK(values(sum) == expected);
  CHECK(values(biased) == expected_biased);
}

TEST_CASE("cat of channels-last tensors along the channels is channels-last, and so are its gradients") {
  auto a = iota({2, 3, 4, 5}).contiguous(MemoryFormat::ChannelsLast).requires_grad_(true);
  auto b = (iota({2, 2, 4, 5}) + 100.0).contiguous(MemoryFormat::ChannelsLast).requires_grad_(true);
  auto y = loom::cat({a, b}, 1);
  CHECK(sizes_of(y) == std::vector<i64>{2, 5, 4, 5});
  CHECK(y.is_contiguous(MemoryFormat::ChannelsLast));
  CHECK(values(y.slice(1, 0, 3)) == values(a));
  CHECK(values(y.slice(1, 3, 5)) == values(b));
  // The gradients reach each input as dense channels-last tensors, not as slices.
  auto weights = iota({2, 5, 4, 5}).contiguous(MemoryFormat::ChannelsLast);
  (y * weights).sum().backward();
  CHECK(a.grad().is_contiguous(MemoryFormat::ChannelsLast));
  CHECK(b.grad().is_contiguous(MemoryFormat::ChannelsLast));
  CHECK(values(a.grad()) == values(weights.slice(1, 0, 3)));
  CHECK(values(b.grad()) == values(weights.slice(1, 3, 5)));
}

TEST_CASE("clone preserves channels-last unless asked for contiguous") {
  auto cl = iota({2, 3, 4, 5}).contiguous(MemoryFormat::ChannelsLast);
  CHECK(cl.clone().is_contiguous(MemoryFormat::ChannelsLast));
  CHECK(cl.clone(MemoryFormat::Contiguous).is_contiguous());
  CHECK(loom::empty_like(cl).is_contiguous(MemoryFormat::ChannelsLast));
}

TEST_CASE("is_non_overlapping_and_dense") {
  CHECK(iota({3, 4}).t().is_non_overlapping_and_dense());
  CHECK_FALSE(iota({3, 4}).slice(1, 0, 4, 2).is_non_overlapping_and_dense());
  CHECK_FALSE(iota({3, 1}).expand({3, 4}).is_non_overlapping_and_dense());
}

}  // TEST_SUITE
