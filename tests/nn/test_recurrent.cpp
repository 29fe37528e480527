// Recurrent layers beyond the PyTorch fixture cases (test_layer_fixtures.cpp) and the gradcheck
// rows (test_layer_gradcheck.cpp): the typed API against the multi-tensor one, what lengths
// mean (padded steps against each sequence run alone), the fused path against the composed one,
// a gradgradcheck of a small LSTM (the fused node's create_graph fallback), dropout between
// layers (statistics), and the errors.
#include <cmath>
#include <memory>
#include <vector>

#include "helpers.hpp"
#include "loom/autograd.hpp"
#include "loom/nn/recurrent.hpp"
#include "loom/random.hpp"
#include "loom/tensor_ops.hpp"

namespace {

namespace nn = loom::nn;
using loom::Tensor;
using loom_nn_test::contains;
using loom_nn_test::message_of;
using loom_nn_test::values;

constexpr loom::DType kF64 = loom::DType::Float64;

Tensor randn64(const loom::Shape& shape, std::uint64_t seed) {
  loom::manual_seed(seed);
  return loom::randn(shape, kF64);
}

Tensor lengths_of(std::vector<std::int64_t> v) {
  return loom::from_vector(v, {static_cast<std::int64_t>(v.size())});
}

void check_same(const Tensor& a, const Tensor& b, double tol = 1e-12) {
  REQUIRE(a.sizes() == b.sizes());
  loom_nn_test::check_close(values(a), values(b), tol, tol);
}

}  // namespace

TEST_CASE("the typed forward, the multi-tensor forward and the one-tensor forward agree") {
  loom::manual_seed(1);
  nn::LSTM lstm(nn::RecurrentOptions{.input_size = 3, .hidden_size = 4, .num_layers = 2, .bidirectional = true});
  lstm.to(kF64);
  const Tensor x = randn64({5, 2, 3}, 2), h0 = randn64({4, 2, 4}, 3), c0 = randn64({4, 2, 4}, 4);
  const Tensor lengths = lengths_of({5, 3});
  const nn::RecurrentOutput typed = lstm.forward(x, {h0, c0}, lengths);
  const loom::TensorList listed = lstm(loom::TensorList{x, h0, c0, lengths});
  REQUIRE(listed.size() == 3);
  check_same(typed.output, listed[0]);
  check_same(typed.h_n, listed[1]);
  check_same(typed.c_n, listed[2]);
  // No state is zeros; lengths may follow x directly.
  const loom::TensorList no_state = lstm(loom::TensorList{x, lengths});
  const nn::RecurrentOutput zeros = lstm.forward(x, {loom::zeros({4, 2, 4}, kF64), loom::zeros({4, 2, 4}, kF64)}, lengths);
  check_same(no_state[0], zeros.output);
  check_same(lstm(x), lstm.forward(x, {}).output);

  nn::GRU gru(nn::RecurrentOptions{.input_size = 3, .hidden_size = 2});
  gru.to(kF64);
  const loom::TensorList g = gru(loom::TensorList{x, randn64({1, 2, 2}, 5)});
  REQUIRE(g.size() == 2);
  CHECK(g[0].sizes() == loom::Shape{5, 2, 2});
  CHECK(g[1].sizes() == loom::Shape{1, 2, 2});
  // The last step's output is h_n (one layer, one direction, no padding).
  check_same(g[0].select(0, 4), g[1].select(0, 0));

  nn::LSTMCell cell(3, 4);
  cell.to(kF64);
  const Tensor xc = randn64({2, 3}, 6), h = randn64({2, 4}, 7), c = randn64({2, 4}, 8);
  const nn::LSTMState s = cell.forward(xc, {h, c});
  const loom::TensorList sl = cell(loom::TensorList{xc, h, c});
  check_same(s.h, sl[0]);
  check_same(s.c, sl[1]);
  check_same(cell(xc), cell.forward(xc, {}).h);
}

TEST_CASE("lengths: each sequence as if run alone, padded steps output 0 and get no gradient") {
  for (const bool batch_first : {false, true}) {
    for (const char* type : {"lstm", "gru", "rnn"}) {
      CAPTURE(type);
      CAPTURE(batch_first);
      loom::manual_seed(11);
      const nn::RecurrentOptions o{.input_size = 2, .hidden_size = 3, .num_layers = 2, .batch_first = batch_first,
                                   .bidirectional = true};
      std::shared_ptr<nn::RecurrentBase> m;
      if (type == std::string("lstm")) m = std::make_shared<nn::LSTM>(o);
      else if (type == std::string("gru")) m = std::make_shared<nn::GRU>(o);
      else m = std::make_shared<nn::RNN>(o);
      m->to(kF64);
      const std::int64_t steps = 5, batch_dim = batch_first ? 0 : 1;
      const Tensor x = randn64(batch_first ? loom::Shape{3, steps, 2} : loom::Shape{steps, 3, 2}, 12).requires_grad_(true);
      const std::vector<std::int64_t> lens = {2, 5, 4};  // unsorted
      const loom::TensorList out = (*m)(loom::TensorList{x, lengths_of(lens)});
      for (std::int64_t n = 0; n < 3; ++n) {
        CAPTURE(n);
        const std::int64_t len = lens[static_cast<std::size_t>(n)];
        const Tensor alone_x = x.detach().select(batch_dim, n).narrow(0, 0, len).unsqueeze(batch_dim);
        const loom::TensorList alone = (*m)(loom::TensorList{alone_x});
        const Tensor mine = out[0].select(batch_dim, n);
        check_same(mine.narrow(0, 0, len), alone[0].select(batch_dim, 0));
        if (len < steps) CHECK(loom::abs(mine.narrow(0, len, steps - len)).sum().item<double>() == 0);
        for (std::size_t k = 1; k < out.size(); ++k) check_same(out[k].select(1, n), alone[k].select(1, 0));
      }
      Tensor total = loom::zeros({}, kF64);
      for (const Tensor& t : out) total = total + (t * randn64(t.sizes(), 13)).sum();
      total.backward();
      const Tensor pad = x.grad().select(batch_dim, 0).narrow(0, 2, steps - 2);  // sequence 0's padding
      CHECK(loom::abs(pad).sum().item<double>() == 0);
      CHECK(loom::abs(x.grad().select(batch_dim, 0).narrow(0, 0, 2)).sum().item<double>() > 0);
    }
  }
}

TEST_CASE("gradgradcheck of a small LSTM (the composed path serves create_graph)") {
  loom::manual_seed(21);
  nn::LSTM lstm(nn::RecurrentOptions{.input_size = 2, .hidden_size = 2, .proj_size = 1});
  lstm.to(kF64);
  const Tensor x = randn64({3, 2, 2}, 22).requires_grad_(true);
  const Tensor h0 = randn64({1, 2, 1}, 23).requires_grad_(true), c0 = randn64({1, 2, 2}, 24).requires_grad_(true);
  loom::TensorList inputs{x, h0, c0, lstm.weights(0).w_hh, lstm.weights(0).w_hr};
  auto fn = [&lstm](const loom::TensorList& in) -> loom::TensorList {
    const nn::RecurrentOutput r = lstm.forward(in[0], {in[1], in[2]}, lengths_of({3, 2}));
    return {r.output, r.c_n};
  };
  const auto result = loom::autograd::gradgradcheck(fn, inputs);
  INFO(result.report);
  CHECK(result.ok);
}

TEST_CASE("dropout between layers: the inner outputs only, p of them dropped, in training only") {
  // A 2-layer relu RNN whose layer 1 passes its input through (identity w_ih, no recurrence, no
  // bias): its output is the dropped-out output of layer 0.
  const double p = 0.3;
  loom::manual_seed(31);
  nn::RNN rnn(nn::RecurrentOptions{.input_size = 3, .hidden_size = 4, .num_layers = 2, .bias = false,
                                   .dropout = p}, "relu");
  rnn.to(kF64);
  {
    loom::NoGradGuard no_grad;
    nn::RecurrentWeights w0 = rnn.weights(0), w1 = rnn.weights(1);  // handles to the parameters
    w0.w_ih.copy_(loom::abs(w0.w_ih));
    w0.w_hh.fill_(0);
    w1.w_ih.copy_(loom::eye(4, kF64));
    w1.w_hh.fill_(0);
  }
  const Tensor x = loom::abs(randn64({50, 40, 3}, 32)) + 0.1;  // layer 0's outputs all > 0
  rnn.eval();
  const Tensor clean = rnn(x);
  CHECK(loom::min(clean).item<double>() > 0);
  rnn.train();
  const Tensor dropped = rnn(x);
  const std::vector<double> d = values(dropped), c = values(clean);
  std::int64_t zeros = 0;
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (d[i] == 0) ++zeros;
    else CHECK(std::abs(d[i] - c[i] / (1 - p)) <= 1e-12 * (1 + c[i]));
  }
  const double n = static_cast<double>(d.size()), rate = static_cast<double>(zeros) / n;
  CHECK(std::abs(rate - p) <= 5 * std::sqrt(p * (1 - p) / n));
  // The last layer's output is never dropped.
  nn::LSTM one(nn::RecurrentOptions{.input_size = 3, .hidden_size = 4, .dropout = 0.5});
  const Tensor y = loom::randn({6, 2, 3});
  const Tensor train_out = one(y);
  one.eval();
  check_same(train_out, one(y));
}

TEST_CASE("recurrent layers: errors name the layer, what was expected and what was found") {
  nn::LSTM lstm(nn::RecurrentOptions{.input_size = 3, .hidden_size = 4, .num_layers = 2});
  const Tensor x = loom::randn({5, 2, 3});
  auto shape_error = [](auto f) { return message_of<loom::ShapeError>(f); };
  CHECK(contains(shape_error([&] { lstm(loom::randn({1, 5, 2, 3})); }), "(L, N, input_size)"));
  CHECK(contains(shape_error([&] { lstm(loom::randn({5, 2, 4})); }), "input_size = 3"));
  CHECK(contains(shape_error([&] { lstm.forward(x, {loom::zeros({1, 2, 4}), loom::zeros({2, 2, 4})}); }),
                 "h0 of shape (2, 2, 4)"));
  CHECK(contains(shape_error([&] { lstm.forward(x, {loom::zeros({2, 2, 4}), loom::zeros({2, 3, 4})}); }),
                 "c0 of shape (2, 2, 4)"));
  CHECK(contains(message_of<loom::ValueError>([&] { lstm.forward(x, {loom::zeros({2, 2, 4}), Tensor()}); }),
                 "both given"));
  CHECK(contains(message_of<loom::IndexError>([&] { lstm.forward(x, {}, lengths_of({5, 6})); }),
                 "lengths in [1, L = 5], found values in [5, 6]"));
  CHECK(contains(message_of<loom::IndexError>([&] { lstm.forward(x, {}, lengths_of({0, 3})); }), "[0, 3]"));
  CHECK(contains(shape_error([&] { lstm.forward(x, {}, lengths_of({5, 4, 3})); }), "shape (2)"));
  CHECK(contains(shape_error([&] { lstm.forward(x, {}, loom::full({2}, 3.0)); }), "int64"));
  CHECK(contains(shape_error([&] { lstm.forward(loom::randn({5, 3}), {}, lengths_of({5})); }), "batched"));
  CHECK(contains(message_of<loom::DTypeError>([&] { lstm(loom::randn({5, 2, 3}, kF64)); }), "float32"));
  CHECK(contains(shape_error([&] { lstm(loom::TensorList{x, loom::zeros({2, 2, 4})}); }), "{x, h0, c0}"));
  nn::GRU gru(nn::RecurrentOptions{.input_size = 3, .hidden_size = 4, .batch_first = true});
  CHECK(contains(shape_error([&] { gru(loom::randn({2, 5, 2})); }), "(N, L, input_size)"));
  CHECK(contains(shape_error([&] { gru(loom::TensorList{x, loom::zeros({1, 4}), loom::zeros({1, 4})}); }), "GRU"));

  CHECK(contains(message_of<loom::ValueError>([] { nn::RNN(nn::RecurrentOptions{.input_size = 3, .hidden_size = 4}, "sigmoid"); }),
                 "'tanh' or 'relu'"));
  CHECK(contains(message_of<loom::ValueError>(
                     [] { nn::LSTM(nn::RecurrentOptions{.input_size = 3, .hidden_size = 4, .proj_size = 4}); }),
                 "proj_size must be in [0, hidden_size = 4)"));
  CHECK(contains(message_of<loom::ValueError>(
                     [] { nn::GRU(nn::RecurrentOptions{.input_size = 3, .hidden_size = 4, .proj_size = 2}); }),
                 "LSTM option"));
  CHECK(contains(message_of<loom::ValueError>(
                     [] { nn::GRU(nn::RecurrentOptions{.input_size = 3, .hidden_size = 4, .num_layers = 0}); }),
                 "num_layers"));
  CHECK(contains(message_of<loom::ValueError>(
                     [] { nn::RNN(nn::RecurrentOptions{.input_size = 3, .hidden_size = 4, .dropout = 1.5}); }),
                 "dropout"));
  CHECK(contains(message_of<loom::IndexError>([&] { lstm.weights(0, true); }), "one direction"));

  nn::GRUCell cell(3, 4);
  CHECK(contains(shape_error([&] { cell(loom::randn({2, 4})); }), "(N, 3)"));
  CHECK(contains(shape_error([&] { cell.forward(loom::randn({2, 3}), loom::zeros({3, 4})); }), "h of shape (2, 4)"));
  CHECK(contains(shape_error([&] { cell(loom::TensorList{loom::randn({2, 3}), loom::zeros({2, 4}), loom::zeros({2, 4})}); }),
                 "{x, h}"));
  nn::LSTMCell lcell(3, 4);
  CHECK(contains(shape_error([&] { lcell.forward(loom::randn({3}), {loom::zeros({4}), loom::zeros({2, 4})}); }),
                 "c of shape (4,)"));
  CHECK(contains(shape_error([&] { nn::functional::lstm_cell(loom::randn({2, 3}), loom::zeros({2, 4}), loom::zeros({2, 4}),
                                                      lcell.weight_ih.narrow(0, 0, 8), lcell.weight_hh); }),
                 "4·hidden"));
}

TEST_CASE("the fused path equals the composed path: outputs and every gradient, float32 and float64") {
  struct Variant {
    const char* type;
    nn::RecurrentOptions options;
    const char* nonlinearity = "tanh";
  };
  const nn::RecurrentOptions base{.input_size = 3, .hidden_size = 4, .num_layers = 2, .bidirectional = true};
  nn::RecurrentOptions projected = base;
  projected.proj_size = 2;
  projected.batch_first = true;
  const std::vector<Variant> variants = {{"lstm", base}, {"lstm", projected}, {"gru", base}, {"rnn", base},
                                         {"rnn", base, "relu"}};
  for (const loom::DType dtype : {loom::DType::Float32, kF64}) {
    for (const Variant& v : variants) {
      CAPTURE(v.type);
      CAPTURE(v.nonlinearity);
      CAPTURE(dtype_name(dtype));
      loom::manual_seed(41);
      std::shared_ptr<nn::RecurrentBase> m;
      if (v.type == std::string("lstm")) m = std::make_shared<nn::LSTM>(v.options);
      else if (v.type == std::string("gru")) m = std::make_shared<nn::GRU>(v.options);
      else m = std::make_shared<nn::RNN>(v.options, v.nonlinearity);
      m->to(dtype);
      const bool lstm = v.type == std::string("lstm");
      const std::int64_t h_out = v.options.proj_size > 0 ? v.options.proj_size : 4;
      const loom::Shape xs = v.options.batch_first ? loom::Shape{3, 6, 3} : loom::Shape{6, 3, 3};
      const Tensor x = randn64(xs, 42).to(dtype), h0 = randn64({4, 3, h_out}, 43).to(dtype),
                   c0 = randn64({4, 3, 4}, 44).to(dtype), lengths = lengths_of({4, 6, 1});
      auto run = [&](bool fused) {
        m->fused = fused;
        m->zero_grad();
        loom::TensorList in{x.detach().requires_grad_(true), h0.detach().requires_grad_(true)};
        if (lstm) in.push_back(c0.detach().requires_grad_(true));
        loom::TensorList args = in;
        args.push_back(lengths);
        const loom::TensorList out = (*m)(args);
        Tensor total = loom::zeros({}, dtype);
        for (const Tensor& t : out) total = total + (t * randn64(t.sizes(), 45).to(dtype)).sum();
        total.backward();
        loom::TensorList results = out;
        for (const Tensor& t : in) results.push_back(t.grad());
        for (const Tensor& p : m->parameters()) results.push_back(p.grad());
        return results;
      };
      const loom::TensorList fused = run(true), composed = run(false);
      REQUIRE(fused.size() == composed.size());
      const double tol = dtype == kF64 ? 1e-12 : 2e-5;
      for (std::size_t k = 0; k < fused.size(); ++k) {
        CAPTURE(k);
        REQUIRE(fused[k].defined());
        check_same(fused[k].to(kF64), composed[k].to(kF64), tol);
      }
    }
  }
}
