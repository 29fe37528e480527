#pragma once
// Internal to libloom: the recurrent cells' pointwise parts (shared by the functional cells and
// the sequence layers) and one layer-direction pass over a sequence.
#include <utility>

#include "loom/nn/recurrent.hpp"

namespace loom::nn::detail {

// The pointwise part of a cell from its two projections gi = x·w_ihᵀ + b_ih and gh = h·w_hhᵀ + b_hh
// (N, G·hidden) (gate formulas in loom/nn/functional/recurrent.hpp).
Tensor rnn_pointwise(RecurrentKind kind, const Tensor& gi, const Tensor& gh);
std::pair<Tensor, Tensor> lstm_pointwise(const Tensor& gi, const Tensor& gh, const Tensor& c);
Tensor gru_pointwise(const Tensor& gi, const Tensor& gh, const Tensor& h);

// One layer and direction over a time-major sequence.
struct DirectionResult {
  Tensor output;  // (L, N, H_out); 0 at padded steps
  Tensor h, c;    // the final state (N, H_out) and (N, hidden); c for the LSTM only
};

// x (L, N, in); h0 (N, H_out), c0 (N, hidden) (LSTM); valid (L, N, 1) bool, true at the steps
// before each sequence's length, or undefined (no padding). reverse runs from step L − 1 to 0.
DirectionResult run_direction(RecurrentKind kind, const Tensor& x, const RecurrentWeights& w, const Tensor& h0,
                              const Tensor& c0, const Tensor& valid, bool reverse);
// The same pass as one autograd node around the fused cell primitives (recurrent_fused.cpp).
DirectionResult run_direction_fused(RecurrentKind kind, const Tensor& x, const RecurrentWeights& w, const Tensor& h0,
                                    const Tensor& c0, const Tensor& valid, bool reverse);

}  // namespace loom::nn::detail
