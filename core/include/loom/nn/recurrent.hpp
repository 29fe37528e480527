#pragma once
// Recurrent layers as PyTorch's: the cells RNNCell, LSTMCell, GRUCell (one time step) and the
// sequence layers RNN, LSTM, GRU (multi-layer, bidirectional, batch_first, dropout between
// layers, LSTM proj_size). Parameter names, shapes, gate orders (LSTM i, f, g, o; GRU r, z, n
// with b_hn inside r·(...), see loom/nn/functional/recurrent.hpp) and the initialisation
// (every parameter U(−1/√hidden_size, 1/√hidden_size)) are PyTorch's, so a PyTorch state_dict
// loads unchanged. COURSE.md's LSTM weights Wx (D, 4H), Wh (H, 4H) and b (4H) are weight_ih_l0ᵀ,
// weight_hh_l0ᵀ and bias_ih_l0 + bias_hh_l0.
//
// Sequence layers, per layer k (l0, l1, ...) and direction (suffix "_reverse" for the backward
// direction of a bidirectional layer), with D = 2 if bidirectional else 1, G the gate count
// (RNN 1, LSTM 4, GRU 3) and H_out = proj_size if set else hidden_size:
//   weight_ih_lk (G·hidden, input_size for k = 0, else D·H_out), weight_hh_lk (G·hidden, H_out),
//   bias_ih_lk, bias_hh_lk (G·hidden) when bias, weight_hr_lk (proj_size, hidden) with proj_size.
// Shapes: x (L, N, input_size), or (N, L, input_size) with batch_first, or unbatched (L, input_size);
// h0 and h_n (num_layers·D, N, H_out), c0 and c_n (num_layers·D, N, hidden) (unbatched: without
// N, and never batch-first); output (L, N, D·H_out) (batch_first: (N, L, D·H_out)), the last
// layer's h of every step, the two directions concatenated.
//
// Variable-length batches (PyTorch's pack_padded_sequence, unsorted is fine): lengths is int64 (N)
// with values in [1, L]; the steps t ≥ lengths[n] of sequence n are padding: they neither update
// its state nor receive gradient, their outputs are 0 (as pad_packed_sequence gives), h_n and c_n
// are each sequence's state after its last valid step, and the reverse direction starts at that
// step.
//
// summary() (loom/nn/layer_stats.hpp): multiply-adds of the weight products over every step,
// padded steps included: L·N·Σ over layers and directions of G·hidden·(input + H_out)
// (+ hidden·proj_size with a projection); the receptive field becomes the whole input.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "loom/nn/functional/recurrent.hpp"
#include "loom/nn/module.hpp"

namespace loom::nn {

enum class RecurrentKind { RNNTanh, RNNReLU, LSTM, GRU };

struct RecurrentOptions {
  std::int64_t input_size = 0;
  std::int64_t hidden_size = 0;
  std::int64_t num_layers = 1;
  bool bias = true;
  bool batch_first = false;
  double dropout = 0.0;  // on the outputs of every layer but the last, in training mode
  bool bidirectional = false;
  std::int64_t proj_size = 0;  // LSTM only: 0 is no projection
};

// What a sequence layer returns; c_n is undefined except for the LSTM.
struct RecurrentOutput {
  Tensor output;
  Tensor h_n;
  Tensor c_n;
};

// An LSTM's state: h and c (either both defined or neither: zeros).
struct LSTMState {
  Tensor h;
  Tensor c;
};

// One layer and direction's parameters (handles to the registered ones; undefined when absent).
struct RecurrentWeights {
  Tensor w_ih, w_hh, b_ih, b_hh, w_hr;
};

// What RNN, LSTM and GRU share. The multi-tensor forward, for the registry and JSON world:
//   inputs  {x}, {x, h0} (RNN, GRU) or {x, h0, c0} (LSTM), each optionally followed by lengths
//           (int64 (N)): {x, lengths}, {x, h0, lengths}, {x, h0, c0, lengths}; an undefined
//           tensor in a state's place is "zeros";
//   outputs {output, h_n} (RNN, GRU) or {output, h_n, c_n} (LSTM).
// The one-tensor forward returns the output sequence.
class LOOM_API RecurrentBase : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  TensorList forward(const TensorList& xs) override;
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes& inputs, const Shapes& outputs) const override;
  void reset_parameters();
  // Layer `layer`'s parameters in one direction.
  const RecurrentWeights& weights(std::int64_t layer, bool reverse = false) const;
  std::int64_t directions() const { return options.bidirectional ? 2 : 1; }
  std::int64_t output_size() const { return options.proj_size > 0 ? options.proj_size : options.hidden_size; }

  RecurrentKind kind;
  RecurrentOptions options;
  // true: each layer and direction is one autograd node around the fused cell primitives (one
  // GEMM per step, the input projections and the weight gradients one GEMM per layer); false:
  // composed of differentiable ops (what the fused node's backward recomputes under create_graph;
  // the two agree to rounding).
  bool fused = true;

 protected:
  RecurrentBase(std::string type_name, RecurrentKind kind, RecurrentOptions options);
  // Checks the shapes and runs every layer and direction (c0 and c_n for the LSTM only).
  RecurrentOutput run(const Tensor& x, const Tensor& h0, const Tensor& c0, const Tensor& lengths);

 private:
  std::vector<RecurrentWeights> weights_;  // layer·D + direction
};

// Elman RNN, h' = tanh or relu of the cell's sum (the nonlinearity argument).
class LOOM_API RNN : public RecurrentBase {
 public:
  // nonlinearity "tanh" or "relu"; options.proj_size must be 0.
  explicit RNN(RecurrentOptions options, const std::string& nonlinearity = "tanh");
  using RecurrentBase::forward;
  RecurrentOutput forward(const Tensor& x, const Tensor& h0, const Tensor& lengths = {});
};

class LOOM_API LSTM : public RecurrentBase {
 public:
  explicit LSTM(RecurrentOptions options);
  using RecurrentBase::forward;
  RecurrentOutput forward(const Tensor& x, const LSTMState& state, const Tensor& lengths = {});
};

class LOOM_API GRU : public RecurrentBase {
 public:
  explicit GRU(RecurrentOptions options);  // options.proj_size must be 0
  using RecurrentBase::forward;
  RecurrentOutput forward(const Tensor& x, const Tensor& h0, const Tensor& lengths = {});
};

// ---- cells: one step, x (N, input_size) or unbatched (input_size) ----
// Parameters weight_ih (G·hidden, input_size), weight_hh (G·hidden, hidden), bias_ih, bias_hh
// (G·hidden) when bias. The multi-tensor forward: inputs {x}, {x, h} (RNNCell, GRUCell) or
// {x, h, c} (LSTMCell); outputs {h'} or {h', c'}; the one-tensor forward returns h' from a zero
// state. summary(): N·G·hidden·(input_size + hidden) multiply-adds.
class LOOM_API RecurrentCellBase : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  TensorList forward(const TensorList& xs) override;
  std::string extra_repr() const override;
  std::optional<LayerStats> stats(const Shapes& inputs, const Shapes& outputs) const override;
  void reset_parameters();

  RecurrentKind kind;
  std::int64_t input_size, hidden_size;
  bool bias;
  Tensor weight_ih, weight_hh, bias_ih, bias_hh;

 protected:
  RecurrentCellBase(std::string type_name, RecurrentKind kind, std::int64_t input_size, std::int64_t hidden_size,
                    bool bias);
  // One step from (h, c) (undefined: zeros); returns {h'} or {h', c'}.
  TensorList step(const Tensor& x, const Tensor& h, const Tensor& c);
};

class LOOM_API RNNCell : public RecurrentCellBase {
 public:
  RNNCell(std::int64_t input_size, std::int64_t hidden_size, bool bias = true,
          const std::string& nonlinearity = "tanh");
  using RecurrentCellBase::forward;
  Tensor forward(const Tensor& x, const Tensor& h);
};

class LOOM_API LSTMCell : public RecurrentCellBase {
 public:
  LSTMCell(std::int64_t input_size, std::int64_t hidden_size, bool bias = true);
  using RecurrentCellBase::forward;
  LSTMState forward(const Tensor& x, const LSTMState& state);
};

class LOOM_API GRUCell : public RecurrentCellBase {
 public:
  GRUCell(std::int64_t input_size, std::int64_t hidden_size, bool bias = true);
  using RecurrentCellBase::forward;
  Tensor forward(const Tensor& x, const Tensor& h);
};

}  // namespace loom::nn
