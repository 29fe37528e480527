// The recurrent layers' registry entries: "rnn", "lstm", "gru", "rnn_cell", "lstm_cell",
// "gru_cell", with PyTorch's option names.
#include "builtin_registration.hpp"
#include "loom/nn/recurrent.hpp"

namespace loom::nn::detail {

namespace {

// The options every sequence layer takes (proj_size: the LSTM's only).
RecurrentOptions sequence_options(ConfigReader& r, bool projection) {
  RecurrentOptions o;
  o.input_size = r.integer("input_size");
  o.hidden_size = r.integer("hidden_size");
  o.num_layers = r.integer("num_layers", 1);
  o.bias = r.boolean("bias", true);
  o.batch_first = r.boolean("batch_first", false);
  o.dropout = r.number("dropout", 0.0);
  o.bidirectional = r.boolean("bidirectional", false);
  if (projection) o.proj_size = r.integer("proj_size", 0);
  return o;
}

std::string nonlinearity(ConfigReader& r) { return r.text("nonlinearity", "tanh", {"tanh", "relu"}); }

}  // namespace

void register_recurrent_layers() {
  add_builtin_layer("rnn", [](ConfigReader& r) {
    const RecurrentOptions o = sequence_options(r, false);
    return std::make_shared<RNN>(o, nonlinearity(r));
  });
  add_builtin_layer("lstm", [](ConfigReader& r) { return std::make_shared<LSTM>(sequence_options(r, true)); });
  add_builtin_layer("gru", [](ConfigReader& r) { return std::make_shared<GRU>(sequence_options(r, false)); });
  add_builtin_layer("rnn_cell", [](ConfigReader& r) {
    const std::int64_t in = r.integer("input_size"), hidden = r.integer("hidden_size");
    const bool bias = r.boolean("bias", true);
    return std::make_shared<RNNCell>(in, hidden, bias, nonlinearity(r));
  });
  add_builtin_layer("lstm_cell", [](ConfigReader& r) {
    return std::make_shared<LSTMCell>(r.integer("input_size"), r.integer("hidden_size"), r.boolean("bias", true));
  });
  add_builtin_layer("gru_cell", [](ConfigReader& r) {
    return std::make_shared<GRUCell>(r.integer("input_size"), r.integer("hidden_size"), r.boolean("bias", true));
  });
}

}  // namespace loom::nn::detail
