// The recurrent cells' pointwise parts, the functional cells and one layer-direction pass, all
// composed of differentiable ops.
#include <vector>

#include "check_input.hpp"
#include "loom/check.hpp"
#include "loom/nn/functional/activation.hpp"
#include "loom/nn/functional/linear.hpp"
#include "loom/nn/functional/recurrent.hpp"
#include "loom/tensor_ops.hpp"
#include "recurrent_step.hpp"

namespace loom::nn {

namespace detail {

namespace {

// Gate k of G along the last dim.
Tensor gate(const Tensor& gates, std::int64_t k, std::int64_t hidden) { return gates.narrow(-1, k * hidden, hidden); }

}  // namespace

Tensor rnn_pointwise(RecurrentKind kind, const Tensor& gi, const Tensor& gh) {
  const Tensor sum = gi + gh;
  return kind == RecurrentKind::RNNReLU ? functional::relu(sum) : sum.tanh();
}

std::pair<Tensor, Tensor> lstm_pointwise(const Tensor& gi, const Tensor& gh, const Tensor& c) {
  const std::int64_t hidden = c.size(-1);
  const Tensor gates = gi + gh;
  const Tensor i = gate(gates, 0, hidden).sigmoid(), f = gate(gates, 1, hidden).sigmoid();
  const Tensor g = gate(gates, 2, hidden).tanh(), o = gate(gates, 3, hidden).sigmoid();
  const Tensor c_next = f * c + i * g;
  return {o * c_next.tanh(), c_next};
}

Tensor gru_pointwise(const Tensor& gi, const Tensor& gh, const Tensor& h) {
  const std::int64_t hidden = h.size(-1);
  const Tensor r = (gate(gi, 0, hidden) + gate(gh, 0, hidden)).sigmoid();
  const Tensor z = (gate(gi, 1, hidden) + gate(gh, 1, hidden)).sigmoid();
  const Tensor n = (gate(gi, 2, hidden) + r * gate(gh, 2, hidden)).tanh();
  return n + z * (h - n);
}

DirectionResult run_direction(RecurrentKind kind, const Tensor& x, const RecurrentWeights& w, const Tensor& h0,
                              const Tensor& c0, const Tensor& valid, bool reverse) {
  const std::int64_t steps = x.size(0);
  // Every step's input projection in one GEMM over (L·N, in).
  const Tensor gi_all = functional::linear(x, w.w_ih, w.b_ih);
  Tensor h = h0, c = c0;
  std::vector<Tensor> outputs(static_cast<std::size_t>(steps));
  for (std::int64_t s = 0; s < steps; ++s) {
    const std::int64_t t = reverse ? steps - 1 - s : s;
    const Tensor gi = gi_all.select(0, t), gh = functional::linear(h, w.w_hh, w.b_hh);
    Tensor h_next, c_next;
    if (kind == RecurrentKind::LSTM) {
      std::tie(h_next, c_next) = lstm_pointwise(gi, gh, c);
      if (w.w_hr.defined()) h_next = functional::linear(h_next, w.w_hr);
    } else if (kind == RecurrentKind::GRU) {
      h_next = gru_pointwise(gi, gh, h);
    } else {
      h_next = rnn_pointwise(kind, gi, gh);
    }
    if (valid.defined()) {
      // A padded step keeps the state and outputs 0; where() sends its gradient nowhere.
      const Tensor m = valid.select(0, t);
      outputs[static_cast<std::size_t>(t)] = where(m, h_next, 0.0);
      h = where(m, h_next, h);
      if (c_next.defined()) c = where(m, c_next, c);
    } else {
      outputs[static_cast<std::size_t>(t)] = h_next;
      h = h_next;
      c = c_next;
    }
  }
  return {stack(outputs, 0), h, c};
}

}  // namespace detail

namespace functional {

namespace {

// x (N, in), h and c (N, hidden) against the weights of G gates.
void check_cell(const char* op, const Tensor& x, const Tensor& h, const Tensor& w_ih, const Tensor& w_hh,
                std::int64_t gates) {
  detail::check_input(op, x, 2, "(N, input_size)");
  LOOM_CHECK(w_ih.defined() && w_hh.defined() && w_ih.dim() == 2 && w_hh.dim() == 2, ShapeError,
             "{}: expected 2-D weights w_ih and w_hh", op);
  const std::int64_t hidden = w_hh.size(1);
  LOOM_CHECK(w_ih.size(0) == gates * hidden && w_hh.size(0) == gates * hidden, ShapeError,
             "{}: expected w_ih and w_hh with {}·hidden = {} rows, found {} and {}", op, gates, gates * hidden,
             w_ih.sizes().str(), w_hh.sizes().str());
  LOOM_CHECK(x.dim() == 2 && x.size(1) == w_ih.size(1), ShapeError,
             "{}: expected x of shape (N, {}), found {}", op, w_ih.size(1), x.sizes().str());
  LOOM_CHECK(h.defined() && h.sizes() == Shape({x.size(0), hidden}), ShapeError,
             "{}: expected a state of shape ({}, {}), found {}", op, x.size(0), hidden,
             h.defined() ? h.sizes().str() : std::string("an undefined tensor"));
}

Tensor rnn_cell(RecurrentKind kind, const char* op, const Tensor& x, const Tensor& h, const Tensor& w_ih,
                const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh) {
  check_cell(op, x, h, w_ih, w_hh, 1);
  return nn::detail::rnn_pointwise(kind, linear(x, w_ih, b_ih), linear(h, w_hh, b_hh));
}

}  // namespace

Tensor rnn_tanh_cell(const Tensor& x, const Tensor& h, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                     const Tensor& b_hh) {
  return rnn_cell(RecurrentKind::RNNTanh, "rnn_tanh_cell", x, h, w_ih, w_hh, b_ih, b_hh);
}

Tensor rnn_relu_cell(const Tensor& x, const Tensor& h, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                     const Tensor& b_hh) {
  return rnn_cell(RecurrentKind::RNNReLU, "rnn_relu_cell", x, h, w_ih, w_hh, b_ih, b_hh);
}

std::pair<Tensor, Tensor> lstm_cell(const Tensor& x, const Tensor& h, const Tensor& c, const Tensor& w_ih,
                                    const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh) {
  check_cell("lstm_cell", x, h, w_ih, w_hh, 4);
  LOOM_CHECK(c.defined() && c.sizes() == h.sizes(), ShapeError, "lstm_cell: expected c of h's shape {}, found {}",
             h.sizes().str(), c.defined() ? c.sizes().str() : std::string("an undefined tensor"));
  return nn::detail::lstm_pointwise(linear(x, w_ih, b_ih), linear(h, w_hh, b_hh), c);
}

Tensor gru_cell(const Tensor& x, const Tensor& h, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                const Tensor& b_hh) {
  check_cell("gru_cell", x, h, w_ih, w_hh, 3);
  return nn::detail::gru_pointwise(linear(x, w_ih, b_ih), linear(h, w_hh, b_hh), h);
}

}  // namespace functional

}  // namespace loom::nn
