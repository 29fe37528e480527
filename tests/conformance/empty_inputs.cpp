// Tensors with numel() == 0 never reach a kernel (ops.def): through the public API each
// primitive's op must still return a result of the right shape (and, for reductions over an
// empty dim, the identity).
#include "conformance.hpp"
#include "loom/autograd.hpp"
#include "loom/nn/functional/attention.hpp"
#include "loom/nn/functional/conv.hpp"
#include "loom/nn/functional/pooling.hpp"
#include "loom/nn/functional/normalization.hpp"
#include "loom/nn/recurrent.hpp"

namespace conformance {
namespace {

void check_shape(const Tensor& result, const Shape& expected, const char* what) {
  INFO(what << ": found shape " << result.sizes().str() << ", expected " << expected.str());
  CHECK(result.sizes() == expected);
}

Tensor empty_of(DType dtype) { return loom::zeros({0, 3}, dtype); }

// The unary, binary and compare primitives share their names with public functions.
bool elementwise(Op op) {
  const Tensor f = empty_of(DType::Float32), b = empty_of(DType::Bool);
  const Tensor row_f = loom::ones({3}), row_b = loom::ones({3}, DType::Bool);
  switch (op) {
#define LOOM_OP(family, name, params) LOOM_CONFORMANCE_EMPTY_##family(name)
#define LOOM_CONFORMANCE_EMPTY_unary(name)                                                   \
  case Op::name:                                                                           \
    check_shape(Op::name == Op::logical_not ? loom::name(b) : loom::name(f), {0, 3}, #name); \
    return true;
#define LOOM_CONFORMANCE_EMPTY_binary(name)                                                 \
  case Op::name:                                                                            \
    check_shape(Op::name == Op::logical_and || Op::name == Op::logical_or                  \
                    ? loom::name(b, row_b)                                                  \
                    : loom::name(f, row_f),                                                 \
                {0, 3}, #name " (broadcast with (3,))");                                    \
    return true;
#define LOOM_CONFORMANCE_EMPTY_compare(name) LOOM_CONFORMANCE_EMPTY_binary(name)
#define LOOM_CONFORMANCE_EMPTY_memory(name)
#define LOOM_CONFORMANCE_EMPTY_ternary(name)
#define LOOM_CONFORMANCE_EMPTY_reduce(name)
#define LOOM_CONFORMANCE_EMPTY_matmul(name)
#define LOOM_CONFORMANCE_EMPTY_convolution(name)
#define LOOM_CONFORMANCE_EMPTY_pooling(name)
#define LOOM_CONFORMANCE_EMPTY_normalization(name)
#define LOOM_CONFORMANCE_EMPTY_attention(name)
#define LOOM_CONFORMANCE_EMPTY_recurrent(name)
#define LOOM_CONFORMANCE_EMPTY_index(name)
#define LOOM_CONFORMANCE_EMPTY_random(name)
#include "loom/ops.def"
#undef LOOM_OP
    default: return false;
  }
}

}  // namespace

void check_empty_through_public_api(Op op) {
  if (elementwise(op)) return;
  const Tensor f = empty_of(DType::Float32);
  const Tensor none = loom::zeros({0}, DType::Int64);
  switch (op) {
    case Op::copy:
      check_shape(f.to(DType::Float64), {0, 3}, "to(float64)");
      CHECK(f.to(DType::Float64).dtype() == DType::Float64);
      check_shape(f.t().contiguous(), {3, 0}, "contiguous of a transposed empty tensor");
      return;
    case Op::fill: check_shape(loom::full({0, 3}, 2.0), {0, 3}, "full"); return;
    case Op::arange: check_shape(loom::arange(3, 3), {0}, "arange(3, 3)"); return;
    case Op::where:
      check_shape(loom::where(empty_of(DType::Bool), f, loom::ones({3})), {0, 3}, "where");
      return;
    case Op::clamp: check_shape(loom::clamp(f, 0.0, 1.0), {0, 3}, "clamp"); return;
    case Op::sum:
      check_shape(loom::sum(f, {1}), {0}, "sum over the non-empty dim");
      CHECK(host(loom::sum(f, {0})) == std::vector<double>{0, 0, 0});
      return;
    case Op::prod:
      check_shape(loom::prod(f, {1}), {0}, "prod over the non-empty dim");
      CHECK(host(loom::prod(f, {0})) == std::vector<double>{1, 1, 1});
      return;
    case Op::max:
    case Op::min: {
      auto r = op == Op::max ? loom::max(f, 1) : loom::min(f, 1);
      check_shape(r.values, {0}, "values");
      check_shape(r.indices, {0}, "indices");
      return;
    }
    case Op::bmm:
      check_shape(loom::bmm(loom::zeros({0, 2, 3}), loom::zeros({0, 3, 4})), {0, 2, 4}, "bmm, B = 0");
      CHECK(host(loom::matmul(loom::zeros({2, 0}), loom::zeros({0, 3}))) == std::vector<double>(6, 0.0));
      return;
    case Op::index_select:
      check_shape(loom::index_select(loom::ones({3, 4}), 0, none), {0, 4}, "empty index");
      check_shape(loom::index_select(f, 1, loom::tensor({0, 2})), {0, 2}, "empty input");
      return;
    case Op::gather:
      check_shape(loom::gather(loom::ones({3, 4}), 1, loom::zeros({3, 0}, DType::Int64)), {3, 0}, "gather");
      return;
    case Op::scatter_add: {
      auto x = loom::ones({3, 4});
      auto r = loom::scatter_add(x, 0, loom::zeros({0, 4}, DType::Int64), loom::zeros({0, 4}));
      check_shape(r, {3, 4}, "scatter_add of nothing");
      CHECK(host(r) == host(x));
      return;
    }
    case Op::masked_fill:
      check_shape(loom::masked_fill(f, empty_of(DType::Bool), 1.0), {0, 3}, "masked_fill");
      return;
    case Op::uniform: check_shape(loom::rand({0, 3}), {0, 3}, "rand"); return;
    case Op::normal: check_shape(loom::randn({0, 3}), {0, 3}, "randn"); return;
    case Op::bernoulli: check_shape(loom::bernoulli({0, 3}, 0.5), {0, 3}, "bernoulli"); return;
    case Op::conv2d:
    case Op::conv2d_backward_data:
    case Op::conv2d_backward_weight: {
      // A batch of 0 through conv2d and both of its gradients.
      auto x = loom::zeros({0, 2, 5, 5}).requires_grad_();
      auto w = loom::ones({3, 2, 3, 3}).requires_grad_();
      auto y = loom::nn::functional::conv2d(x, w, loom::ones({3}));
      check_shape(y, {0, 3, 3, 3}, "conv2d, N = 0");
      loom::sum(y).backward();
      check_shape(x.grad(), {0, 2, 5, 5}, "conv2d's input gradient, N = 0");
      // No product reached the output: the weight gets no gradient, or a zero one.
      CHECK((!w.grad().defined() || host(w.grad()) == std::vector<double>(54, 0.0)));
      check_shape(loom::nn::functional::conv_transpose2d(loom::zeros({0, 3, 3, 3}), w), {0, 2, 5, 5}, "conv_transpose2d, N = 0");
      return;
    }
    case Op::max_pool2d:
    case Op::max_pool2d_backward: {
      auto x = loom::zeros({0, 2, 4, 4}).requires_grad_();
      auto y = loom::nn::functional::max_pool2d(x);
      check_shape(y, {0, 2, 2, 2}, "max_pool2d, N = 0");
      loom::sum(y).backward();
      check_shape(x.grad(), {0, 2, 4, 4}, "max_pool2d's gradient, N = 0");
      return;
    }
    case Op::avg_pool2d:
    case Op::avg_pool2d_backward: {
      auto x = loom::zeros({2, 0, 4, 4}).requires_grad_();
      auto y = loom::nn::functional::avg_pool2d(x);
      check_shape(y, {2, 0, 2, 2}, "avg_pool2d, C = 0");
      loom::sum(y).backward();
      check_shape(x.grad(), {2, 0, 4, 4}, "avg_pool2d's gradient, C = 0");
      return;
    }
    case Op::batch_norm:
    case Op::batch_norm_backward: {
      // No channels: PyTorch counts N·H·W values per channel, so this is no error.
      auto x = loom::zeros({2, 0, 4, 4}).requires_grad_();
      auto w = loom::ones({0}).requires_grad_();
      auto y = loom::nn::functional::batch_norm(x, loom::zeros({0}), loom::ones({0}), w, loom::zeros({0}), true);
      check_shape(y, {2, 0, 4, 4}, "batch_norm, C = 0");
      loom::sum(y).backward();
      check_shape(x.grad(), {2, 0, 4, 4}, "batch_norm's input gradient, C = 0");
      check_shape(w.grad(), {0}, "batch_norm's weight gradient, C = 0");
      return;
    }
    case Op::layer_norm:
    case Op::layer_norm_backward: {
      // No rows: the parameter gradients are sums of nothing.
      auto x = loom::zeros({0, 2, 4}).requires_grad_();
      auto w = loom::ones({2, 4}).requires_grad_(), b = loom::zeros({2, 4}).requires_grad_();
      auto y = loom::nn::functional::layer_norm(x, {2, 4}, w, b);
      check_shape(y, {0, 2, 4}, "layer_norm, no rows");
      loom::sum(y).backward();
      check_shape(x.grad(), {0, 2, 4}, "layer_norm's input gradient, no rows");
      check_shape(w.grad(), {2, 4}, "layer_norm's weight gradient, no rows");
      CHECK(loom::sum(loom::abs(w.grad())).item<float>() == 0.0f);
      check_shape(b.grad(), {2, 4}, "layer_norm's bias gradient, no rows");
      CHECK(loom::sum(loom::abs(b.grad())).item<float>() == 0.0f);
      // Rows of no values (a group norm over no channels) give an empty result too.
      auto e = loom::zeros({2, 0, 3}).requires_grad_();
      auto z = loom::nn::functional::group_norm(e, 1);
      check_shape(z, {2, 0, 3}, "group_norm, C = 0");
      loom::sum(z).backward();
      check_shape(e.grad(), {2, 0, 3}, "group_norm's input gradient, C = 0");
      return;
    }
    case Op::attention:
    case Op::attention_backward: {
      // No queries, and no batches: empty outputs and gradients of the inputs' shapes.
      for (const Shape& qs : {Shape{2, 0, 4}, Shape{0, 3, 4}}) {
        auto q = loom::zeros(qs).requires_grad_();
        auto k = loom::ones({qs[0], 5, 4}).requires_grad_(), v = loom::ones({qs[0], 5, 6}).requires_grad_();
        auto y = loom::nn::functional::fused_scaled_dot_product_attention(q, k, v);
        check_shape(y, {qs[0], qs[1], 6}, "fused attention, empty query");
        loom::sum(y).backward();
        check_shape(q.grad(), qs, "fused attention's query gradient");
        check_shape(k.grad(), {qs[0], 5, 4}, "fused attention's key gradient");
        CHECK(loom::sum(loom::abs(v.grad())).item<float>() == 0.0f);
      }
      return;
    }
    case Op::lstm_cell:
    case Op::lstm_cell_backward:
    case Op::gru_cell:
    case Op::gru_cell_backward: {
      // A batch of no sequences through the recurrent layers' fused path, forward and backward.
      loom::nn::LSTM lstm(loom::nn::RecurrentOptions{.input_size = 3, .hidden_size = 2});
      loom::nn::GRU gru(loom::nn::RecurrentOptions{.input_size = 3, .hidden_size = 2});
      for (loom::nn::RecurrentBase* m : {static_cast<loom::nn::RecurrentBase*>(&lstm), static_cast<loom::nn::RecurrentBase*>(&gru)}) {
        const Tensor x = loom::zeros({4, 0, 3}).requires_grad_(true);
        const loom::TensorList out = (*m)(loom::TensorList{x});
        check_shape(out[0], {4, 0, 2}, "recurrent output, no sequences");
        check_shape(out[1], {1, 0, 2}, "recurrent h_n, no sequences");
        out[0].sum().backward();
        check_shape(x.grad(), {4, 0, 3}, "recurrent input gradient, no sequences");
      }
      return;
    }
    default: FAIL("no empty-input check for " << loom::op_name(op));
  }
}

}  // namespace conformance
