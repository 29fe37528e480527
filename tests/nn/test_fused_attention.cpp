// F::scaled_dot_product_attention's fused kernel against its math path through the public API:
// the same outputs and gradients (float32, masks of each kind, causal, fully masked rows), the
// dispatch (large float32 weights only: profiler counts of the "attention" node), gradients of
// gradients through the fused node (gradgradcheck, float64 on the reference kernel), and errors.
#include <cmath>

#include "helpers.hpp"
#include "loom/autograd.hpp"
#include "loom/nn/functional/attention.hpp"
#include "common/profile_counts.hpp"
#include "loom/random.hpp"
#include "loom/tensor_ops.hpp"

namespace F = loom::nn::functional;
using loom::Tensor;
using loom::TensorList;
using loom_nn_test::check_close;
using loom_nn_test::contains;
using loom_nn_test::message_of;
using loom_nn_test::values;

namespace {

struct Case {
  const char* what;
  loom::Shape q, k, v;
  Tensor mask;
  bool causal;
};

std::vector<Case> cases() {
  loom::manual_seed(3);
  // Key padding (N, 1, 1, S): sequence 1 keeps 50 of its 80 keys, sequence 0 none (fully masked).
  Tensor keep = (loom::arange(0, 80, 1).reshape({1, 1, 1, 80}) < loom::from_vector(std::vector<std::int64_t>{0, 50}, {2, 1, 1, 1}));
  Tensor additive = loom::where(loom::rand({70, 80}) < 0.2, -INFINITY, loom::randn({70, 80}));
  return {
      {"(N, H, L, E) no mask, block edges", {2, 3, 70, 16}, {2, 3, 80, 16}, {2, 3, 80, 8}, Tensor(), false},
      {"key padding, a fully masked sequence", {2, 3, 70, 16}, {2, 3, 80, 16}, {2, 3, 80, 8}, keep, false},
      {"additive (L, S) mask with -inf", {2, 3, 70, 16}, {2, 3, 80, 16}, {2, 3, 80, 8}, additive, false},
      {"causal, 3-D", {4, 90, 8}, {4, 90, 8}, {4, 90, 8}, Tensor(), true},
  };
}

}  // namespace

TEST_SUITE("fused attention") {

TEST_CASE("float32: the fused kernel gives the math path's outputs and gradients") {
  for (const Case& c : cases()) {
    CAPTURE(c.what);
    const Tensor q0 = loom::randn(c.q), k0 = loom::randn(c.k), v0 = loom::randn(c.v), g = loom::randn([&] {
      loom::Shape s = c.q;
      s[s.size() - 1] = c.v[c.v.size() - 1];
      return s;
    }());
    TensorList fused_grads, math_grads;
    Tensor fused_out, math_out;
    for (bool fused : {true, false}) {
      Tensor q = q0.clone().requires_grad_(), k = k0.clone().requires_grad_(), v = v0.clone().requires_grad_();
      loom_test::ProfilingScope profiling;
      Tensor out = fused ? F::fused_scaled_dot_product_attention(q, k, v, c.mask, c.causal)
                         : F::scaled_dot_product_attention_with_weights(q, k, v, c.mask, 0.0, c.causal).output;
      CHECK(loom_test::profile_calls("attention") == (fused ? 1 : 0));
      (out * g).sum().backward();
      (fused ? fused_out : math_out) = out.detach();
      (fused ? fused_grads : math_grads) = {q.grad(), k.grad(), v.grad()};
    }
    check_close(values(fused_out), values(math_out), 1e-4, 1e-5);
    for (int i = 0; i < 3; ++i) {
      CAPTURE(i);
      check_close(values(fused_grads[i]), values(math_grads[i]), 1e-3, 1e-5);
    }
  }
}

TEST_CASE("scaled_dot_product_attention takes the kernel for large float32 weights only") {
  // 2^24 weights or more: (1, 4, 2048, 8)·(1, 4, 2048, 8)ᵀ is 4·2048·2048 = 2^24.
  const Tensor big_q = loom::randn({1, 4, 2048, 8}), big_k = loom::randn({1, 4, 2048, 8});
  const Tensor q = loom::randn({2, 4, 8}), k = loom::randn({2, 6, 8}), v = loom::randn({2, 6, 8});
  loom_test::ProfilingScope profiling;
  F::scaled_dot_product_attention(q, k, v);  // small: the math path
  F::scaled_dot_product_attention(big_q.to(loom::DType::Float64), big_k.to(loom::DType::Float64),
                                  big_k.to(loom::DType::Float64));
  F::scaled_dot_product_attention(big_q, big_k, big_k, {}, 0.5);
  F::scaled_dot_product_attention(big_q, big_k.select(0, 0), big_k.select(0, 0));  // broadcast batch dims
  CHECK(loom_test::profile_calls("attention") == 0);
  const Tensor fused = F::scaled_dot_product_attention(big_q, big_k, big_k, {}, 0.0, true);
  CHECK(loom_test::profile_calls("attention") == 1);
  const Tensor math = F::scaled_dot_product_attention_with_weights(big_q, big_k, big_k, {}, 0.0, true).output;
  check_close(values(fused), values(math), 1e-4, 1e-5);
}

TEST_CASE("gradients of gradients through the fused node (float64, reference kernel)") {
  loom::manual_seed(5);
  const Tensor keep = loom::from_vector(std::vector<std::uint8_t>{1, 1, 0, 1, 1}, {5}).to(loom::DType::Bool);
  const auto result = loom::autograd::gradgradcheck(
      [&](const TensorList& in) { return TensorList{F::fused_scaled_dot_product_attention(in[0], in[1], in[2], keep)}; },
      {loom::randn({2, 3, 4}, loom::DType::Float64).requires_grad_(),
       loom::randn({2, 5, 4}, loom::DType::Float64).requires_grad_(),
       loom::randn({2, 5, 3}, loom::DType::Float64).requires_grad_()});
  INFO(result.report);
  CHECK(result.ok);
}

TEST_CASE("the fused function refuses broadcast batch dims and checks like the math path") {
  const Tensor q = loom::randn({2, 4, 8}), k = loom::randn({6, 8}), v = loom::randn({6, 8});
  const std::string broadcast = message_of<loom::ShapeError>([&] { F::fused_scaled_dot_product_attention(q, k, v); });
  CHECK(contains(broadcast, "same batch dims"));
  CHECK(contains(broadcast, q.sizes().str()));
  const std::string features = message_of<loom::ShapeError>(
      [&] { F::fused_scaled_dot_product_attention(q, loom::randn({2, 6, 7}), loom::randn({2, 6, 8})); });
  CHECK(contains(features, "feature size E"));
}

TEST_CASE("changing the output in place before backward is an error, not a wrong gradient") {
  Tensor q = loom::randn({1, 4, 8}).requires_grad_();
  const Tensor k = loom::randn({1, 4, 8}), v = loom::randn({1, 4, 8});
  Tensor out = F::fused_scaled_dot_product_attention(q, k, v);
  {
    loom::NoGradGuard no_grad;
    out.add_(1.0);
  }
  CHECK(contains(message_of<loom::ValueError>([&] { out.sum().backward(); }), "modified by an in-place op"));
}

}  // TEST_SUITE
