#pragma once
// One step of the recurrent cells, as PyTorch's RNNCell, LSTMCell and GRUCell compute it. x is
// (N, input_size), h and c are (N, hidden_size); the weights are PyTorch's: w_ih (G·hidden,
// input_size), w_hh (G·hidden, hidden_size), b_ih and b_hh (G·hidden) or undefined (no bias),
// with G gates stacked in PyTorch's order (COURSE.md's Wx (D, G·H) and Wh (H, G·H) are their
// transposes):
//   RNN  (G = 1): h' = act(x·w_ihᵀ + b_ih + h·w_hhᵀ + b_hh), act tanh or relu
//   LSTM (G = 4, gates i, f, g, o): [i f g o] = x·w_ihᵀ + b_ih + h·w_hhᵀ + b_hh,
//        c' = σ(f)·c + σ(i)·tanh(g),  h' = σ(o)·tanh(c')
//   GRU  (G = 3, gates r, z, n): with gi = x·w_ihᵀ + b_ih and gh = h·w_hhᵀ + b_hh,
//        r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r·gh_n)  (b_hn inside r·(...)),
//        h' = (1 − z)·n + z·h
// Composed of differentiable ops: twice differentiable.
#include <utility>

#include "loom/export.hpp"
#include "loom/tensor.hpp"

namespace loom::nn::functional {

LOOM_API Tensor rnn_tanh_cell(const Tensor& x, const Tensor& h, const Tensor& w_ih, const Tensor& w_hh,
                              const Tensor& b_ih = {}, const Tensor& b_hh = {});
LOOM_API Tensor rnn_relu_cell(const Tensor& x, const Tensor& h, const Tensor& w_ih, const Tensor& w_hh,
                              const Tensor& b_ih = {}, const Tensor& b_hh = {});
// Returns (h', c').
LOOM_API std::pair<Tensor, Tensor> lstm_cell(const Tensor& x, const Tensor& h, const Tensor& c, const Tensor& w_ih,
                                             const Tensor& w_hh, const Tensor& b_ih = {}, const Tensor& b_hh = {});
LOOM_API Tensor gru_cell(const Tensor& x, const Tensor& h, const Tensor& w_ih, const Tensor& w_hh,
                         const Tensor& b_ih = {}, const Tensor& b_hh = {});

}  // namespace loom::nn::functional
