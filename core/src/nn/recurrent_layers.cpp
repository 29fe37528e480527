// RNN, LSTM, GRU: options, parameters, shape checks and the pass over layers and directions.
#include <cmath>

#include "check_input.hpp"
#include "loom/check.hpp"
#include "loom/nn/functional/linear.hpp"
#include "loom/nn/init.hpp"
#include "loom/nn/recurrent.hpp"
#include "loom/tensor_ops.hpp"
#include "recurrent_step.hpp"

namespace loom::nn {

namespace {

std::int64_t gate_count(RecurrentKind kind) {
  return kind == RecurrentKind::LSTM ? 4 : kind == RecurrentKind::GRU ? 3 : 1;
}

std::string shape_or_undefined(const Tensor& t) { return t.defined() ? t.sizes().str() : "an undefined tensor"; }

void check_options(const std::string& name, RecurrentKind kind, const RecurrentOptions& o) {
  LOOM_CHECK(o.input_size > 0 && o.hidden_size > 0, ValueError,
             "{}: input_size and hidden_size must be ≥ 1, found {} and {}", name, o.input_size, o.hidden_size);
  LOOM_CHECK(o.num_layers >= 1, ValueError, "{}: num_layers must be ≥ 1, found {}", name, o.num_layers);
  LOOM_CHECK(o.dropout >= 0 && o.dropout <= 1, ValueError, "{}: dropout must be in [0, 1], found {}", name,
             o.dropout);
  LOOM_CHECK(o.proj_size >= 0 && o.proj_size < o.hidden_size, ValueError,
             "{}: proj_size must be in [0, hidden_size = {}), found {}", name, o.hidden_size, o.proj_size);
  LOOM_CHECK(o.proj_size == 0 || kind == RecurrentKind::LSTM, ValueError,
             "{}: proj_size is an LSTM option, found proj_size {}", name, o.proj_size);
}

RecurrentKind rnn_kind(const std::string& who, const std::string& nonlinearity) {
  LOOM_CHECK(nonlinearity == "tanh" || nonlinearity == "relu", ValueError,
             "{}: nonlinearity must be 'tanh' or 'relu', found '{}'", who, nonlinearity);
  return nonlinearity == "relu" ? RecurrentKind::RNNReLU : RecurrentKind::RNNTanh;
}

}  // namespace

// ---- sequence layers ----
RecurrentBase::RecurrentBase(std::string type_name, RecurrentKind kind, RecurrentOptions o)
    : Module(std::move(type_name)), kind(kind), options(o) {
  check_options(this->type_name(), kind, o);
  const std::int64_t gates = gate_count(kind) * o.hidden_size;
  for (std::int64_t layer = 0; layer < o.num_layers; ++layer) {
    const std::int64_t in = layer == 0 ? o.input_size : directions() * output_size();
    for (std::int64_t dir = 0; dir < directions(); ++dir) {
      const std::string suffix = "_l" + std::to_string(layer) + (dir == 1 ? "_reverse" : "");
      RecurrentWeights w;
      w.w_ih = register_parameter("weight_ih" + suffix, empty({gates, in}));
      w.w_hh = register_parameter("weight_hh" + suffix, empty({gates, output_size()}));
      if (o.bias) {
        w.b_ih = register_parameter("bias_ih" + suffix, empty({gates}));
        w.b_hh = register_parameter("bias_hh" + suffix, empty({gates}));
      }
      if (o.proj_size > 0) w.w_hr = register_parameter("weight_hr" + suffix, empty({o.proj_size, o.hidden_size}));
      weights_.push_back(w);
    }
  }
  reset_parameters();
}

void RecurrentBase::reset_parameters() {
  const double bound = 1.0 / std::sqrt(static_cast<double>(options.hidden_size));
  for (const Tensor& p : parameters()) init::uniform_(p, -bound, bound);
}

const RecurrentWeights& RecurrentBase::weights(std::int64_t layer, bool reverse) const {
  LOOM_CHECK(layer >= 0 && layer < options.num_layers && (!reverse || options.bidirectional), IndexError,
             "{}: no layer {}{} in {} layer(s){}", type_name(), layer, reverse ? " reverse" : "", options.num_layers,
             options.bidirectional ? "" : " of one direction");
  return weights_[static_cast<std::size_t>(layer * directions() + (reverse ? 1 : 0))];
}

RecurrentOutput RecurrentBase::run(const Tensor& x, const Tensor& h0, const Tensor& c0, const Tensor& lengths) {
  const std::string& name = type_name();
  functional::detail::check_input(name, x, 2, "(L, N, input_size)");
  const char* layout = options.batch_first ? "(N, L, input_size)" : "(L, N, input_size)";
  LOOM_CHECK(x.dim() <= 3, ShapeError, "{}: expected an input {} or unbatched (L, input_size), found shape {}", name,
             layout, x.sizes().str());
  LOOM_CHECK(x.dtype() == weights_[0].w_ih.dtype(), DTypeError, "{}: expected an input of the parameters' dtype {}, found {}",
             name, dtype_name(weights_[0].w_ih.dtype()), dtype_name(x.dtype()));
  const bool batched = x.dim() == 3;
  const Tensor seq = batched ? (options.batch_first ? x.transpose(0, 1) : x) : x.unsqueeze(1);
  LOOM_CHECK(seq.size(2) == options.input_size, ShapeError,
             "{}: expected an input {} with input_size = {} features, found shape {}", name, layout, options.input_size,
             x.sizes().str());
  const std::int64_t steps = seq.size(0), batch = seq.size(1), states = options.num_layers * directions();
  LOOM_CHECK(steps >= 1, ShapeError, "{}: expected a sequence of at least one step, found input of shape {}", name,
             x.sizes().str());
  const bool lstm = kind == RecurrentKind::LSTM;

  // A state given as (layers·D, N, size) (unbatched: (layers·D, size)), as (layers·D, N, size).
  auto state = [&](const Tensor& s, std::int64_t size, const char* what) {
    if (!s.defined()) return zeros({states, batch, size}, TensorOptions(x.dtype(), x.device()));
    const Shape expected = batched ? Shape{states, batch, size} : Shape{states, size};
    LOOM_CHECK(s.sizes() == expected, ShapeError, "{}: expected {} of shape {} (num_layers·directions, {}{}), found {}",
               name, what, expected.str(), batched ? "N, " : "", size, s.sizes().str());
    LOOM_CHECK(s.dtype() == x.dtype(), DTypeError, "{}: expected {} of the input's dtype {}, found {}", name, what,
               dtype_name(x.dtype()), dtype_name(s.dtype()));
    return batched ? s : s.unsqueeze(1);
  };
  const Tensor h = state(h0, output_size(), "h0");
  const Tensor c = lstm ? state(c0, options.hidden_size, "c0") : Tensor();

  Tensor valid;  // (L, N, 1): step t of sequence n is before its length
  if (lengths.defined()) {
    LOOM_CHECK(batched, ShapeError, "{}: lengths needs a batched input, found an unbatched input of shape {}", name,
               x.sizes().str());
    LOOM_CHECK(lengths.dtype() == DType::Int64 && lengths.dim() == 1 && lengths.size(0) == batch, ShapeError,
               "{}: expected lengths of dtype int64 and shape ({}), found {} of shape {}", name, batch,
               dtype_name(lengths.dtype()), lengths.sizes().str());
    const std::int64_t lo = loom::min(lengths).item<std::int64_t>(), hi = loom::max(lengths).item<std::int64_t>();
    LOOM_CHECK(lo >= 1 && hi <= steps, IndexError, "{}: expected lengths in [1, L = {}], found values in [{}, {}]",
               name, steps, lo, hi);
    const Tensor t = arange(0, steps, 1, TensorOptions(DType::Int64, x.device()));
    valid = lt(t.unsqueeze(1), lengths.to(x.device()).unsqueeze(0)).unsqueeze(2);
  }

  Tensor input = seq;
  std::vector<Tensor> h_n, c_n;
  for (std::int64_t layer = 0; layer < options.num_layers; ++layer) {
    std::vector<Tensor> outputs;
    for (std::int64_t dir = 0; dir < directions(); ++dir) {
      const std::int64_t k = layer * directions() + dir;
      const auto pass = fused ? detail::run_direction_fused : detail::run_direction;
      const detail::DirectionResult r = pass(kind, input, weights_[static_cast<std::size_t>(k)], h.select(0, k),
                                             lstm ? c.select(0, k) : Tensor(), valid, dir == 1);
      outputs.push_back(r.output);
      h_n.push_back(r.h);
      c_n.push_back(r.c);
    }
    input = outputs.size() == 1 ? outputs[0] : cat(outputs, 2);
    if (options.dropout > 0 && is_training() && layer + 1 < options.num_layers)
      input = functional::dropout(input, options.dropout, true);
  }
  RecurrentOutput out{input, stack(h_n, 0), lstm ? stack(c_n, 0) : Tensor()};
  if (!batched) {
    out.output = out.output.squeeze(1);
    out.h_n = out.h_n.squeeze(1);
    if (lstm) out.c_n = out.c_n.squeeze(1);
  } else if (options.batch_first) {
    out.output = out.output.transpose(0, 1);
  }
  return out;
}

Tensor RecurrentBase::forward(const Tensor& x) { return run(x, {}, {}, {}).output; }

TensorList RecurrentBase::forward(const TensorList& xs) {
  const bool lstm = kind == RecurrentKind::LSTM;
  // A trailing integral tensor is lengths; the floating ones before it are the state.
  const bool has_lengths = xs.size() >= 2 && xs.back().defined() && !xs.back().is_floating_point();
  const std::size_t state_count = xs.size() - 1 - (has_lengths ? 1 : 0);
  LOOM_CHECK(!xs.empty() && (state_count == 0 || state_count == (lstm ? 2u : 1u)), ShapeError,
             "{}: expected inputs {{x}}, {{x, {}}}, each optionally followed by int64 lengths, found {} tensors",
             type_name(), lstm ? "h0, c0" : "h0", xs.size());
  const Tensor none;
  const RecurrentOutput r = run(xs[0], state_count > 0 ? xs[1] : none, state_count > 1 ? xs[2] : none,
                                has_lengths ? xs.back() : none);
  if (lstm) return {r.output, r.h_n, r.c_n};
  return {r.output, r.h_n};
}

std::string RecurrentBase::extra_repr() const {
  const RecurrentOptions& o = options;
  std::string s = fmt::format("{}, {}", o.input_size, o.hidden_size);
  if (o.proj_size != 0) s += fmt::format(", proj_size={}", o.proj_size);
  if (o.num_layers != 1) s += fmt::format(", num_layers={}", o.num_layers);
  if (kind == RecurrentKind::RNNReLU) s += ", nonlinearity='relu'";
  if (!o.bias) s += ", bias=false";
  if (o.batch_first) s += ", batch_first=true";
  if (o.dropout != 0) s += fmt::format(", dropout={}", o.dropout);
  if (o.bidirectional) s += ", bidirectional=true";
  return s;
}

std::optional<LayerStats> RecurrentBase::stats(const Shapes& inputs, const Shapes&) const {
  const Shape& x = inputs.at(0);
  const bool batched = x.size() == 3;
  const std::int64_t steps = batched && options.batch_first ? x[1] : x[0];
  const std::int64_t batch = !batched ? 1 : options.batch_first ? x[0] : x[1];
  const std::int64_t gates = gate_count(kind) * options.hidden_size;
  std::int64_t per_row = 0;
  for (std::int64_t layer = 0; layer < options.num_layers; ++layer) {
    const std::int64_t in = layer == 0 ? options.input_size : directions() * output_size();
    per_row += directions() * (gates * (in + output_size()) + options.proj_size * options.hidden_size);
  }
  return LayerStats{.multiply_adds = steps * batch * per_row, .mixes_all_positions = true};
}

RNN::RNN(RecurrentOptions o, const std::string& nonlinearity) : RecurrentBase("RNN", rnn_kind("RNN", nonlinearity), o) {}
RecurrentOutput RNN::forward(const Tensor& x, const Tensor& h0, const Tensor& lengths) {
  return run(x, h0, {}, lengths);
}

LSTM::LSTM(RecurrentOptions o) : RecurrentBase("LSTM", RecurrentKind::LSTM, o) {}
RecurrentOutput LSTM::forward(const Tensor& x, const LSTMState& state, const Tensor& lengths) {
  LOOM_CHECK(state.h.defined() == state.c.defined(), ValueError,
             "LSTM: expected the initial state's h and c both given or both undefined (zeros), found h {} and c {}",
             shape_or_undefined(state.h), shape_or_undefined(state.c));
  return run(x, state.h, state.c, lengths);
}

GRU::GRU(RecurrentOptions o) : RecurrentBase("GRU", RecurrentKind::GRU, o) {}
RecurrentOutput GRU::forward(const Tensor& x, const Tensor& h0, const Tensor& lengths) {
  return run(x, h0, {}, lengths);
}

// ---- cells ----
RecurrentCellBase::RecurrentCellBase(std::string type_name, RecurrentKind kind, std::int64_t input_size,
                                     std::int64_t hidden_size, bool bias)
    : Module(std::move(type_name)), kind(kind), input_size(input_size), hidden_size(hidden_size), bias(bias) {
  LOOM_CHECK(input_size > 0 && hidden_size > 0, ValueError,
             "{}: input_size and hidden_size must be ≥ 1, found {} and {}", this->type_name(), input_size, hidden_size);
  const std::int64_t gates = gate_count(kind) * hidden_size;
  weight_ih = register_parameter("weight_ih", empty({gates, input_size}));
  weight_hh = register_parameter("weight_hh", empty({gates, hidden_size}));
  if (bias) {
    bias_ih = register_parameter("bias_ih", empty({gates}));
    bias_hh = register_parameter("bias_hh", empty({gates}));
  }
  reset_parameters();
}

void RecurrentCellBase::reset_parameters() {
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size));
  for (const Tensor& p : parameters()) init::uniform_(p, -bound, bound);
}

TensorList RecurrentCellBase::step(const Tensor& x, const Tensor& h, const Tensor& c) {
  const std::string& name = type_name();
  functional::detail::check_input(name, x, 1, "(N, input_size)");
  LOOM_CHECK(x.dim() <= 2 && x.size(-1) == input_size, ShapeError,
             "{}: expected an input (N, {}) or unbatched ({}), found shape {}", name, input_size, input_size,
             x.sizes().str());
  const bool batched = x.dim() == 2;
  const Tensor xb = batched ? x : x.unsqueeze(0);
  const std::int64_t batch = xb.size(0);
  auto state = [&](const Tensor& s, const char* what) {
    if (!s.defined()) return zeros({batch, hidden_size}, TensorOptions(x.dtype(), x.device()));
    const Shape expected = batched ? Shape{batch, hidden_size} : Shape{hidden_size};
    LOOM_CHECK(s.sizes() == expected, ShapeError, "{}: expected {} of shape {}, found {}", name, what, expected.str(),
               s.sizes().str());
    return batched ? s : s.unsqueeze(0);
  };
  const Tensor hb = state(h, "h");
  TensorList out;
  switch (kind) {
    case RecurrentKind::LSTM: {
      auto [h1, c1] = functional::lstm_cell(xb, hb, state(c, "c"), weight_ih, weight_hh, bias_ih, bias_hh);
      out = {h1, c1};
      break;
    }
    case RecurrentKind::GRU: out = {functional::gru_cell(xb, hb, weight_ih, weight_hh, bias_ih, bias_hh)}; break;
    case RecurrentKind::RNNReLU:
      out = {functional::rnn_relu_cell(xb, hb, weight_ih, weight_hh, bias_ih, bias_hh)};
      break;
    case RecurrentKind::RNNTanh:
      out = {functional::rnn_tanh_cell(xb, hb, weight_ih, weight_hh, bias_ih, bias_hh)};
      break;
  }
  if (!batched)
    for (Tensor& t : out) t = t.squeeze(0);
  return out;
}

Tensor RecurrentCellBase::forward(const Tensor& x) { return step(x, {}, {})[0]; }

TensorList RecurrentCellBase::forward(const TensorList& xs) {
  const std::size_t state_count = kind == RecurrentKind::LSTM ? 2 : 1;
  LOOM_CHECK(xs.size() == 1 || xs.size() == 1 + state_count, ShapeError,
             "{}: expected inputs {{x}} or {{x, {}}}, found {} tensors", type_name(),
             state_count == 2 ? "h, c" : "h", xs.size());
  const Tensor none;
  return step(xs[0], xs.size() > 1 ? xs[1] : none, xs.size() > 2 ? xs[2] : none);
}

std::string RecurrentCellBase::extra_repr() const {
  std::string s = fmt::format("{}, {}", input_size, hidden_size);
  if (!bias) s += ", bias=false";
  if (kind == RecurrentKind::RNNReLU) s += ", nonlinearity='relu'";
  return s;
}

std::optional<LayerStats> RecurrentCellBase::stats(const Shapes& inputs, const Shapes&) const {
  const std::int64_t batch = inputs.at(0).size() == 2 ? inputs[0][0] : 1;
  return LayerStats{.multiply_adds = batch * gate_count(kind) * hidden_size * (input_size + hidden_size),
                    .mixes_all_positions = true};
}

RNNCell::RNNCell(std::int64_t input_size, std::int64_t hidden_size, bool bias, const std::string& nonlinearity)
    : RecurrentCellBase("RNNCell", rnn_kind("RNNCell", nonlinearity), input_size, hidden_size, bias) {}
Tensor RNNCell::forward(const Tensor& x, const Tensor& h) { return step(x, h, {})[0]; }

LSTMCell::LSTMCell(std::int64_t input_size, std::int64_t hidden_size, bool bias)
    : RecurrentCellBase("LSTMCell", RecurrentKind::LSTM, input_size, hidden_size, bias) {}
LSTMState LSTMCell::forward(const Tensor& x, const LSTMState& state) {
  LOOM_CHECK(state.h.defined() == state.c.defined(), ValueError,
             "LSTMCell: expected the state's h and c both given or both undefined (zeros), found h {} and c {}",
             shape_or_undefined(state.h), shape_or_undefined(state.c));
  const TensorList r = step(x, state.h, state.c);
  return {r[0], r[1]};
}

GRUCell::GRUCell(std::int64_t input_size, std::int64_t hidden_size, bool bias)
    : RecurrentCellBase("GRUCell", RecurrentKind::GRU, input_size, hidden_size, bias) {}
Tensor GRUCell::forward(const Tensor& x, const Tensor& h) { return step(x, h, {})[0]; }

}  // namespace loom::nn
