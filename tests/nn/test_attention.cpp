// F::scaled_dot_product_attention against PyTorch 2's definition composed in torch 1.13
// (attention_fixtures.json "sdpa", written by make_attention_fixtures.py): outputs and the
// gradients of q, k, v and a float mask; masks, causal, scale, dropout statistics, fully masked
// rows, errors, float64 gradcheck and gradgradcheck of the math path. Then what the layer fixture
// walk does not reach: MultiheadAttention's mask polarity and call options, the Transformer's
// masks, positional encodings, and stats() for summary().
#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "helpers.hpp"
#include "loom/autograd.hpp"
#include "loom/nn.hpp"
#include "loom/optim.hpp"
#include "loom/random.hpp"
#include "loom/tensor_ops.hpp"

using loom_nn_test::check_close;
using loom_nn_test::contains;
using loom_nn_test::message_of;
using loom_nn_test::values;

namespace {

namespace F = loom::nn::functional;
namespace nn = loom::nn;
constexpr loom::DType kF64 = loom::DType::Float64;

loom::Tensor tensor_of(const nlohmann::json& j) {
  const loom::Shape shape(j["shape"].get<std::vector<std::int64_t>>());
  if (j["dtype"] == "bool") return loom::from_vector(j["data"].get<std::vector<bool>>(), shape);
  return loom::from_vector(j["data"].get<std::vector<double>>(), shape);
}

const nlohmann::json& sdpa_cases() {
  static const nlohmann::json cases = [] {
    std::ifstream in(LOOM_NN_ATTENTION_FIXTURES);
    REQUIRE_MESSAGE(in.good(), "cannot open " << LOOM_NN_ATTENTION_FIXTURES);
    return nlohmann::json::parse(in)["sdpa"];
  }();
  return cases;
}

loom::Tensor randn64(const loom::Shape& shape, std::uint64_t seed) {
  loom::manual_seed(seed);
  return loom::randn(shape, kF64);
}

bool all_finite(const loom::Tensor& t) {
  for (double v : values(t))
    if (!std::isfinite(v)) return false;
  return true;
}

}  // namespace

TEST_CASE("scaled_dot_product_attention against PyTorch: outputs and gradients") {
  REQUIRE(sdpa_cases().size() >= 8);
  for (const auto& c : sdpa_cases()) {
    CAPTURE(c["name"].get<std::string>());
    loom::Tensor q = tensor_of(c["q"]).requires_grad_(), k = tensor_of(c["k"]).requires_grad_(),
                 v = tensor_of(c["v"]).requires_grad_();
    loom::Tensor mask;
    if (c.contains("mask")) mask = tensor_of(c["mask"]);
    if (mask.defined() && mask.is_floating_point()) mask.requires_grad_();
    std::optional<double> scale;
    if (c.contains("scale")) scale = c["scale"].get<double>();
    const loom::Tensor out = F::scaled_dot_product_attention(q, k, v, mask, 0.0, c["is_causal"].get<bool>(), scale);
    const loom::Tensor expected = tensor_of(c["output"]);
    REQUIRE(out.sizes() == expected.sizes());
    check_close(values(out), values(expected), 1e-10, 1e-12);
    (out * tensor_of(c["grad_output"])).sum().backward();
    check_close(values(q.grad()), values(tensor_of(c["grad_q"])), 1e-10, 1e-12);
    check_close(values(k.grad()), values(tensor_of(c["grad_k"])), 1e-10, 1e-12);
    check_close(values(v.grad()), values(tensor_of(c["grad_v"])), 1e-10, 1e-12);
    if (c.contains("grad_mask")) check_close(values(mask.grad()), values(tensor_of(c["grad_mask"])), 1e-10, 1e-12);
  }
}

TEST_CASE("scaled_dot_product_attention: causal, masks and scale agree with their explicit forms") {
  const loom::Tensor q = randn64({2, 3, 4}, 1), k = randn64({2, 5, 4}, 2), v = randn64({2, 5, 3}, 3);
  const loom::Tensor causal = F::causal_mask(3, 5);
  CHECK(values(causal.to(kF64)) == std::vector<double>{1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0});
  const loom::Tensor by_flag = F::scaled_dot_product_attention(q, k, v, {}, 0.0, true);
  check_close(values(by_flag), values(F::scaled_dot_product_attention(q, k, v, causal)), 0, 0);
  // A bool mask and the additive mask with −inf where it is false give the same output.
  const loom::Tensor additive = loom::masked_fill(loom::zeros({3, 5}, kF64), !causal, -INFINITY);
  check_close(values(by_flag), values(F::scaled_dot_product_attention(q, k, v, additive)), 1e-15, 0);
  // The default scale is 1/√E.
  check_close(values(F::scaled_dot_product_attention(q, k, v)),
              values(F::scaled_dot_product_attention(q, k, v, {}, 0.0, false, 0.5)), 1e-15, 0);
  // The weights: rows sum to 1, zero where masked, and output = weights·v.
  const F::AttentionResult r = F::scaled_dot_product_attention_with_weights(q, k, v, causal);
  check_close(values(r.weights.sum({-1})), std::vector<double>(6, 1.0), 1e-14, 0);
  CHECK(loom::abs(r.weights * (!causal).to(kF64)).sum().item<double>() == 0);
  check_close(values(r.output), values(loom::matmul(r.weights, v)), 1e-15, 0);
}

TEST_CASE("scaled_dot_product_attention: a fully masked query row gives 0, not NaN, and no gradient") {
  loom::Tensor q = randn64({2, 3, 4}, 4).requires_grad_(), k = randn64({2, 5, 4}, 5).requires_grad_(),
               v = randn64({2, 5, 4}, 6).requires_grad_();
  // Row 1 may attend nothing; rows 0 and 2 behave as without that row.
  const loom::Tensor mask = loom::tensor({{true, false, true, true, false}, {false, false, false, false, false},
                                          {true, true, true, true, true}});
  SUBCASE("bool mask") {
    const F::AttentionResult r = F::scaled_dot_product_attention_with_weights(q, k, v, mask);
    CHECK(all_finite(r.output));
    CHECK(loom::abs(r.output.select(1, 1)).sum().item<double>() == 0);
    CHECK(loom::abs(r.weights.select(1, 1)).sum().item<double>() == 0);
    const loom::Tensor row0 = F::scaled_dot_product_attention(q.narrow(1, 0, 1), k, v, mask.narrow(0, 0, 1));
    check_close(values(r.output.narrow(1, 0, 1)), values(row0), 1e-15, 0);
    r.output.sum().backward();
    CHECK(all_finite(q.grad()));
    CHECK(all_finite(k.grad()));
    CHECK(loom::abs(q.grad().select(1, 1)).sum().item<double>() == 0);
  }
  SUBCASE("float mask with a row of −inf") {
    const loom::Tensor additive = loom::masked_fill(loom::zeros({3, 5}, kF64), !mask, -INFINITY);
    const loom::Tensor out = F::scaled_dot_product_attention(q, k, v, additive);
    CHECK(all_finite(out));
    CHECK(loom::abs(out.select(1, 1)).sum().item<double>() == 0);
  }
  SUBCASE("a NaN input still gives NaN") {
    const loom::Tensor bad = loom::masked_fill(q.detach(), loom::tensor({true, false, false, false}), NAN);
    CHECK(std::isnan(F::scaled_dot_product_attention(bad, k, v, mask).select(1, 0).sum().item<double>()));
  }
}

TEST_CASE("scaled_dot_product_attention: dropout on the weights, through Loom's generator") {
  const loom::Tensor q = randn64({1, 64, 8}, 7), k = randn64({1, 64, 8}, 8), v = randn64({1, 64, 8}, 9);
  const F::AttentionResult plain = F::scaled_dot_product_attention_with_weights(q, k, v);
  loom::manual_seed(42);
  const F::AttentionResult dropped = F::scaled_dot_product_attention_with_weights(q, k, v, {}, 0.25);
  // About a quarter of the weights are zeroed (64·64 draws: σ ≈ 0.007); the rest scaled by 1/(1 − p).
  const double zeroed = (dropped.weights == 0.0).to(kF64).mean().item<double>();
  CHECK(zeroed == doctest::Approx(0.25).epsilon(0.15));
  const loom::Tensor kept = dropped.weights != 0.0;
  check_close(values(loom::where(kept, dropped.weights, 0.0)), values(loom::where(kept, plain.weights / 0.75, 0.0)),
              1e-14, 0);
  check_close(values(dropped.output), values(loom::matmul(dropped.weights, v)), 1e-14, 1e-15);
  // The same seed draws the same mask; the output-only path applies it too.
  loom::manual_seed(42);
  check_close(values(F::scaled_dot_product_attention(q, k, v, {}, 0.25)), values(dropped.output), 0, 0);
  // p = 0 is deterministic.
  check_close(values(F::scaled_dot_product_attention(q, k, v, {}, 0.0)), values(plain.output), 0, 0);
}

TEST_CASE("scaled_dot_product_attention: float64 gradcheck and gradgradcheck of the math path") {
  const loom::TensorList inputs = {randn64({2, 3, 4}, 10).requires_grad_(), randn64({2, 4, 4}, 11).requires_grad_(),
                                   randn64({2, 4, 3}, 12).requires_grad_(), randn64({3, 4}, 13).requires_grad_()};
  const loom::Tensor bool_mask = loom::tensor({{true, false, true, true}, {true, true, false, false},
                                               {false, true, true, true}});
  auto with_float_mask = [](const loom::TensorList& in) -> loom::TensorList {
    return {F::scaled_dot_product_attention(in[0], in[1], in[2], in[3], 0.0, false, 0.7)};
  };
  auto with_bool_mask = [&](const loom::TensorList& in) -> loom::TensorList {
    return {F::scaled_dot_product_attention(in[0], in[1], in[2], bool_mask)};
  };
  auto causal_weights = [](const loom::TensorList& in) -> loom::TensorList {
    const F::AttentionResult r = F::scaled_dot_product_attention_with_weights(in[0], in[1], in[2], {}, 0.0, true);
    return {r.output, r.weights};
  };
  const loom::TensorList qkv(inputs.begin(), inputs.begin() + 3);
  for (const auto& [name, fn, in] : {std::tuple{"float mask", loom::autograd::DifferentiableFn(with_float_mask), inputs},
                                     std::tuple{"bool mask", loom::autograd::DifferentiableFn(with_bool_mask), qkv},
                                     std::tuple{"causal, weights", loom::autograd::DifferentiableFn(causal_weights), qkv}}) {
    CAPTURE(name);
    const auto first = loom::autograd::gradcheck(fn, in);
    INFO(first.report);
    CHECK(first.ok);
    const auto second = loom::autograd::gradgradcheck(fn, in);
    INFO(second.report);
    CHECK(second.ok);
  }
}

TEST_CASE("scaled_dot_product_attention: errors name the argument, the shapes and the dtypes") {
  const loom::Tensor q = randn64({2, 3, 4}, 14), k = randn64({2, 5, 4}, 15), v = randn64({2, 5, 6}, 16);
  auto message = [&](auto&& f) { return message_of<loom::Error>(f); };
  CHECK(contains(message([&] { F::scaled_dot_product_attention(q, randn64({2, 5, 3}, 1), v); }), "(2, 5, 3)"));
  CHECK(contains(message([&] { F::scaled_dot_product_attention(q, k, randn64({2, 4, 6}, 1)); }), "length S"));
  CHECK(contains(message([&] { F::scaled_dot_product_attention(q, k, v.to(loom::DType::Float32)); }), "float32"));
  CHECK(contains(message([&] { F::scaled_dot_product_attention(q, randn64({3, 5, 4}, 1), v); }), "batch dims"));
  CHECK(contains(message([&] { F::scaled_dot_product_attention(q, k, v, loom::ones({3, 4}, loom::DType::Bool)); }),
                 "(2, 3, 5)"));
  CHECK(contains(message([&] { F::scaled_dot_product_attention(q, k, v, loom::zeros({3, 5}, loom::DType::Int64)); }),
                 "int64"));
  CHECK(contains(message([&] { F::scaled_dot_product_attention(q, k, v, F::causal_mask(3, 5), 0.0, true); }),
                 "is_causal"));
  CHECK(contains(message([&] { F::scaled_dot_product_attention(q, k, v, {}, 1.5); }), "dropout_p"));
  CHECK(contains(message([&] { F::scaled_dot_product_attention(randn64({4}, 1), k, v); }), "at least 2 dims"));
}

TEST_CASE("MultiheadAttention: PyTorch's mask polarity, call options and errors") {
  nn::MultiheadAttention mha(nn::MultiheadAttentionOptions{.embed_dim = 4, .num_heads = 2, .batch_first = true});
  mha.to(kF64);
  const loom::Tensor q = randn64({2, 3, 4}, 20), kv = randn64({2, 5, 4}, 21);
  // true = ignored in MultiheadAttention; SDPA-style "may attend" would be the opposite.
  const loom::Tensor padding = loom::tensor({{false, true, false, false, true}, {false, false, false, true, false}});
  const nn::MultiheadAttentionCall call{.key_padding_mask = padding, .average_attn_weights = false};
  const F::AttentionResult r = mha.forward(q, kv, kv, call);
  REQUIRE(r.weights.sizes() == loom::Shape{2, 2, 3, 5});
  CHECK(loom::abs(r.weights * padding.reshape({2, 1, 1, 5}).to(kF64)).sum().item<double>() == 0);
  // The same mask as an additive float mask, and as a per-head attn_mask, give the same output.
  const loom::Tensor additive = loom::masked_fill(loom::zeros({2, 5}, kF64), padding, -INFINITY);
  check_close(values(mha.forward(q, kv, kv, {.key_padding_mask = additive}).output), values(r.output), 1e-15, 0);
  const loom::Tensor per_head = padding.reshape({2, 1, 1, 5}).expand({2, 2, 3, 5}).reshape({4, 3, 5});
  check_close(values(mha.forward(q, kv, kv, {.attn_mask = per_head}).output), values(r.output), 1e-15, 0);
  // Averaged weights are the mean over heads; need_weights = false gives none and the same output.
  check_close(values(mha.forward(q, kv, kv, {.key_padding_mask = padding}).weights), values(r.weights.mean({1})),
              1e-15, 0);
  const F::AttentionResult no_weights = mha.forward(q, kv, kv, {.key_padding_mask = padding, .need_weights = false});
  CHECK_FALSE(no_weights.weights.defined());
  check_close(values(no_weights.output), values(r.output), 1e-15, 0);
  // is_causal without attn_mask is the causal mask; a fully masked row gives out_proj.bias, not NaN.
  const loom::Tensor causal = !F::causal_mask(3, 3);
  check_close(values(mha.forward(q, q, q, {.is_causal = true}).output),
              values(mha.forward(q, q, q, {.attn_mask = causal}).output), 0, 0);
  const loom::Tensor everything = loom::ones({2, 5}, loom::DType::Bool);
  const loom::Tensor out = mha.forward(q, kv, kv, {.key_padding_mask = everything}).output;
  check_close(values(out), values(mha.out_proj->bias.expand({2, 3, 4})), 1e-15, 0);
  // Errors.
  CHECK(contains(message_of<loom::ShapeError>([&] { mha.forward(q, kv, kv, {.key_padding_mask = padding.t()}); }),
                 "key_padding_mask"));
  CHECK(contains(message_of<loom::ShapeError>([&] { mha.forward(q, kv, kv, {.attn_mask = causal}); }), "(3, 5)"));
  CHECK(contains(message_of<loom::ShapeError>([&] { mha.forward(q, randn64({2, 5, 3}, 1), kv); }), "kdim = 4"));
  CHECK(contains(message_of<loom::ShapeError>([&] { mha(loom::TensorList{q, kv}); }), "3 to 5 inputs"));
  CHECK(contains(message_of<loom::ValueError>([] { nn::MultiheadAttention(6, 4); }), "divisible"));
}

TEST_CASE("MultiheadAttention and an encoder layer: gradgradcheck through the math path (create_graph)") {
  nn::MultiheadAttention mha(nn::MultiheadAttentionOptions{.embed_dim = 4, .num_heads = 2, .batch_first = true});
  nn::TransformerEncoderLayer layer(nn::TransformerLayerOptions{
      .d_model = 4, .nhead = 2, .dim_feedforward = 3, .activation = nn::TransformerActivation::GELU});
  mha.to(kF64);
  layer.to(kF64);
  layer.eval();
  const loom::Tensor padding = loom::tensor({{false, false, true}, {true, false, false}});
  auto attention = [&](const loom::TensorList& in) -> loom::TensorList {
    const F::AttentionResult r = mha.forward(in[0], in[1], in[1], {.key_padding_mask = padding});
    return {r.output, r.weights};
  };
  auto encoder = [&](const loom::TensorList& in) -> loom::TensorList {
    return {layer.forward(in[0], {.src_mask = !F::causal_mask(3, 3)})};
  };
  const loom::TensorList mha_inputs = {randn64({2, 2, 4}, 40).requires_grad_(), randn64({2, 3, 4}, 41).requires_grad_(),
                                       mha.in_proj_weight};
  const auto mha_result = loom::autograd::gradgradcheck(attention, mha_inputs);
  INFO(mha_result.report);
  CHECK(mha_result.ok);
  const auto layer_result = loom::autograd::gradgradcheck(encoder, {randn64({3, 2, 4}, 42).requires_grad_()});
  INFO(layer_result.report);
  CHECK(layer_result.ok);
}

TEST_CASE("Transformer masks: the float subsequent mask, the bool causal mask and is_causal agree") {
  const loom::Tensor m = nn::generate_square_subsequent_mask(3);
  CHECK(values(m) == std::vector<double>{0, -INFINITY, -INFINITY, 0, 0, -INFINITY, 0, 0, 0});
  CHECK(nn::Transformer::generate_square_subsequent_mask(2, kF64).dtype() == kF64);
  nn::TransformerEncoderLayer layer(nn::TransformerLayerOptions{.d_model = 4, .nhead = 2, .dim_feedforward = 6});
  layer.to(kF64);
  layer.eval();
  const loom::Tensor x = randn64({3, 2, 4}, 30);
  const loom::Tensor by_float = layer.forward(x, {.src_mask = nn::generate_square_subsequent_mask(3, kF64)});
  check_close(values(by_float), values(layer.forward(x, {.src_mask = !F::causal_mask(3, 3)})), 1e-15, 0);
  // Causal: the first position does not see the later ones.
  const loom::Tensor changed = loom::cat({x.narrow(0, 0, 1), randn64({2, 2, 4}, 31)}, 0);
  check_close(values(layer.forward(changed, {.src_mask = m.to(kF64)}).select(0, 0)), values(by_float.select(0, 0)),
              1e-15, 0);
}

TEST_CASE("Transformer: unbatched inputs give the batch-of-one outputs; mismatched inputs are errors") {
  nn::Transformer t(nn::TransformerOptions{.d_model = 4, .nhead = 2, .num_encoder_layers = 1, .num_decoder_layers = 1,
                                           .dim_feedforward = 6, .dropout = 0.0});
  t.to(kF64);
  const loom::Tensor src = randn64({5, 4}, 50), tgt = randn64({3, 4}, 51);
  const nn::TransformerMasks masks{.tgt_mask = nn::generate_square_subsequent_mask(3, kF64)};
  const loom::Tensor unbatched = t.forward(src, tgt, masks);
  REQUIRE(unbatched.sizes() == loom::Shape{3, 4});
  check_close(values(unbatched), values(t.forward(src.unsqueeze(1), tgt.unsqueeze(1), masks).squeeze(1)), 1e-14, 0);
  CHECK(contains(message_of<loom::ShapeError>([&] { t.forward(randn64({5, 2, 4}, 1), randn64({3, 3, 4}, 2)); }),
                 "batch size"));
  CHECK(contains(message_of<loom::ShapeError>([&] { t.forward(src, tgt.unsqueeze(1)); }), "unbatched"));
  CHECK(contains(message_of<loom::ShapeError>([&] { t(loom::TensorList{src}); }), "2 to 8 inputs"));
}

TEST_CASE("positional encodings: the sinusoidal table, and length checks") {
  nn::SinusoidalPositionalEncoding pe(nn::PositionalEncodingOptions{.d_model = 4, .max_len = 10});
  const loom::Tensor table = pe.encoding(3, kF64);
  // Position 2: sin(2), cos(2), sin(2/100), cos(2/100).
  check_close(values(table.select(0, 2)), {std::sin(2.0), std::cos(2.0), std::sin(0.02), std::cos(0.02)}, 1e-15, 0);
  CHECK(pe.named_parameters().empty());
  CHECK(pe.state_dict().empty());
  CHECK(contains(message_of<loom::ShapeError>([&] { pe(loom::zeros({11, 1, 4})); }), "max_len = 10"));
  CHECK(contains(message_of<loom::ShapeError>([&] { pe(loom::zeros({3, 1, 5})); }), "(3, 1, 5)"));
  nn::LearnedPositionalEmbedding learned(nn::PositionalEncodingOptions{.d_model = 4, .max_len = 6, .batch_first = true});
  const loom::Tensor x = loom::zeros({2, 5, 4});
  check_close(values(learned(x).select(0, 1)), values(learned.weight.narrow(0, 0, 5)), 0, 0);
  CHECK(loom::max(loom::abs(learned.weight)).item<double>() <= 0.04);
}

TEST_CASE("stats(): projection, attention-product and feed-forward multiply-adds; summary() of a small encoder") {
  nn::MultiheadAttention mha(nn::MultiheadAttentionOptions{.embed_dim = 8, .num_heads = 2, .kdim = 3, .vdim = 5});
  // query (L = 4, N = 2, 8), key (6, 2, 3), value (6, 2, 5): q and out 2·8·8 per query token, k 8·3 and v 8·5 per key;
  // QKᵀ and PV 8 per (query token, key of its sequence): 2 · (2 · 4 · 6) · 8.
  const std::int64_t products = 2 * (2 * 4 * 6) * 8;
  const auto s = mha.stats({{4, 2, 8}, {6, 2, 3}, {6, 2, 5}}, {{4, 2, 8}});
  CHECK(s->multiply_adds == 8 * 2 * 8 * 8 + 12 * 8 * 3 + 12 * 8 * 5 + products);
  CHECK(s->mixes_all_positions);
  // batch_first reads the batch from dimension 0; the added bias and zero keys are two more keys.
  nn::MultiheadAttention bf(nn::MultiheadAttentionOptions{.embed_dim = 8, .num_heads = 2, .add_bias_kv = true,
                                                          .add_zero_attn = true, .batch_first = true});
  CHECK(bf.stats({{2, 4, 8}, {2, 6, 8}, {2, 6, 8}}, {{2, 4, 8}})->multiply_adds ==
        8 * 2 * 8 * 8 + 12 * 2 * 8 * 8 + 2 * (2 * 4 * 8) * 8);
  CHECK(nn::MultiheadAttention(8, 2).stats({{4, 8}}, {{4, 8}})->multiply_adds == 4 * 4 * 64 + 2 * 4 * 4 * 8);
  const nn::TransformerLayerOptions o{.d_model = 8, .nhead = 2, .dim_feedforward = 16, .batch_first = true};
  auto model = std::make_shared<nn::Sequential>();
  model->push_back(std::make_shared<nn::SinusoidalPositionalEncoding>(
      nn::PositionalEncodingOptions{.d_model = 8, .batch_first = true}));
  model->push_back(std::make_shared<nn::TransformerEncoder>(nn::TransformerEncoderOptions{.layer = o, .num_layers = 2}));
  const nn::ModelSummary summary = nn::summary(*model, {5, 8});  // (1, 5, 8): 5 tokens
  REQUIRE(summary.rows.size() == 2);
  const std::int64_t per_layer = 4 * 5 * 8 * 8 + 2 * 5 * 5 * 8 + 2 * 5 * 8 * 16;
  CHECK(summary.rows[0].multiply_adds == 0);
  CHECK(summary.rows[1].multiply_adds == 2 * per_layer);
  CHECK(summary.rows[1].parameters == model->num_parameters());
  nn::Transformer transformer(nn::TransformerOptions{.d_model = 8, .nhead = 2, .num_encoder_layers = 1,
                                                     .num_decoder_layers = 1, .dim_feedforward = 16});
  // src 5 tokens, tgt 3: the encoder layer, then decoder self-attention, cross-attention, feed-forward.
  const auto t = transformer.stats({{5, 1, 8}, {3, 1, 8}}, {{3, 1, 8}});
  CHECK(t->multiply_adds == per_layer + (4 * 3 * 64 + 2 * 3 * 3 * 8) + (2 * 3 * 64 + 2 * 5 * 64 + 2 * 3 * 5 * 8) +
                                2 * 3 * 8 * 16);
}

TEST_CASE("out-of-domain options are errors naming the layer") {
  const auto build_error = [](const char* spec) {
    return message_of<loom::ValueError>([&] { nn::build(nlohmann::json::parse(spec)); });
  };
  CHECK(contains(build_error(R"({"type": "multihead_attention", "embed_dim": 6, "num_heads": 4})"), "MultiheadAttention"));
  CHECK(contains(build_error(R"({"type": "multihead_attention", "embed_dim": 4, "num_heads": 2, "dropout": 1.5})"),
                 "dropout"));
  CHECK(contains(build_error(R"({"type": "transformer_encoder_layer", "d_model": 4, "nhead": 0})"),
                 "TransformerEncoderLayer"));
  CHECK(contains(build_error(R"({"type": "transformer_decoder_layer", "d_model": 4, "nhead": 2, "dropout": -0.1})"),
                 "TransformerDecoderLayer"));
  CHECK(contains(build_error(R"({"type": "transformer_encoder", "d_model": 4, "nhead": 2, "num_layers": 0})"),
                 "TransformerEncoder"));
  CHECK(contains(build_error(R"({"type": "transformer_decoder", "d_model": 4, "nhead": 2, "num_layers": -1})"),
                 "TransformerDecoder"));
  CHECK(contains(build_error(R"({"type": "transformer", "d_model": 6, "nhead": 4})"), "divisible"));
  CHECK(contains(build_error(R"({"type": "transformer_encoder_layer", "d_model": 4, "nhead": 2,
                                 "activation": "tanh"})"),
                 "activation"));
  CHECK(contains(build_error(R"({"type": "sinusoidal_positional_encoding", "d_model": 0})"),
                 "SinusoidalPositionalEncoding"));
  CHECK(contains(build_error(R"({"type": "learned_positional_embedding", "d_model": 4, "max_len": 0})"),
                 "LearnedPositionalEmbedding"));
}

TEST_CASE("a small Transformer encoder learns to reverse sequences (float32, Adam)") {
  // Tokens (N, 6) from 5 symbols; the target at position i is the token at 5 − i: only attention
  // to another position, told apart by the positional encoding, can solve it.
  constexpr std::int64_t kVocab = 5, kLength = 6, kModel = 32;
  loom::manual_seed(3);
  nn::Embedding embedding(kVocab, kModel);
  nn::SinusoidalPositionalEncoding position(nn::PositionalEncodingOptions{.d_model = kModel, .batch_first = true});
  nn::TransformerEncoder encoder(nn::TransformerEncoderOptions{
      .layer = {.d_model = kModel, .nhead = 4, .dim_feedforward = 64, .dropout = 0.0, .batch_first = true},
      .num_layers = 1});
  nn::Linear head(kModel, kVocab);
  std::vector<loom::Tensor> params;
  for (nn::Module* m : std::initializer_list<nn::Module*>{&embedding, &encoder, &head})
    for (const loom::Tensor& p : m->parameters()) params.push_back(p);
  loom::optim::Adam adam(params, {.lr = 3e-3});
  const loom::Tensor reversed = loom::arange(kLength - 1, -1, -1);
  auto logits_of = [&](const loom::Tensor& tokens) {
    return head(encoder(position(embedding(tokens)))).reshape({-1, kVocab});
  };
  for (int step = 0; step < 300; ++step) {
    const loom::Tensor tokens = loom::randint(0, kVocab, {32, kLength});
    const loom::Tensor loss = F::cross_entropy(logits_of(tokens), loom::index_select(tokens, 1, reversed).reshape({-1}));
    adam.zero_grad();
    loss.backward();
    adam.step();
  }
  const loom::Tensor tokens = loom::randint(0, kVocab, {256, kLength});
  const loom::Tensor predicted = logits_of(tokens).argmax(-1);
  const double accuracy =
      (predicted == loom::index_select(tokens, 1, reversed).reshape({-1})).to(kF64).mean().item<double>();
  CHECK(accuracy >= 0.95);  // 1.0 at this seed
}
