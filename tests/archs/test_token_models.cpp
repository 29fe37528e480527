// The token models of the transformer plugin beyond their parameter counts (fixtures/transformer.json):
//   - transformer_lm is causal: changing token t leaves the logits before t unchanged;
//   - transformer_seq2seq's decoder is causal, and padding is masked: more <pad> on a source
//     changes nothing; without pad_id it does;
//   - encode once + decode (transformer/token_models.hpp, the step-wise decoding interface) gives
//     forward()'s logits, through the cast an experiment makes on a model built by name.
#include <memory>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "common/test_helpers.hpp"
#include "loom/autograd.hpp"
#include "loom/error.hpp"
#include "loom/nn/registry.hpp"
#include "loom/random.hpp"
#include "loom/tensor.hpp"
#include "loom/tensor_ops.hpp"
#include "transformer/token_models.hpp"

using loom_test::contains;
using loom_test::message_of;

namespace {

const nlohmann::json kSeq2Seq{{"type", "transformer_seq2seq"}, {"vocab_size", 12}, {"d_model", 16}, {"nhead", 2},
                              {"num_encoder_layers", 2}, {"num_decoder_layers", 2}, {"dim_feedforward", 32},
                              {"pad_id", 0}};

loom::Tensor tokens(const std::vector<std::int64_t>& ids, std::int64_t rows = 1) {
  return loom::from_vector(ids, {rows, static_cast<std::int64_t>(ids.size()) / rows});
}

std::shared_ptr<loom::nn::Module> built(const nlohmann::json& spec) {
  loom::manual_seed(3);
  auto model = loom::nn::build(spec);
  model->eval();
  return model;
}

loom::Tensor call(loom::nn::Module& model, const loom::TensorList& xs) {
  loom::NoGradGuard no_grad;
  return model(xs).at(0);
}

// Positions [0, t) of logits (N, T, V).
loom::Tensor before(const loom::Tensor& logits, std::int64_t t) { return logits.narrow(1, 0, t); }

}  // namespace

TEST_CASE("transformer_lm: a position sees only the tokens up to itself") {
  for (const char* positional : {"sinusoidal", "learned"}) {
    INFO(positional);
    auto lm = built({{"type", "transformer_lm"}, {"vocab_size", 9}, {"d_model", 16}, {"nhead", 2}, {"num_layers", 2},
                     {"dim_feedforward", 24}, {"positional", positional}, {"max_len", 8}});
    const loom::Tensor a = call(*lm, {tokens({1, 2, 3, 4, 5, 6})});
    const loom::Tensor b = call(*lm, {tokens({1, 2, 3, 8, 5, 6})});
    CHECK(loom::allclose(before(a, 3), before(b, 3), 1e-5, 1e-6));
    CHECK_FALSE(loom::allclose(a.narrow(1, 3, 1), b.narrow(1, 3, 1)));
  }
}

TEST_CASE("transformer_seq2seq: causal decoder, masked source padding") {
  auto model = built(kSeq2Seq);
  const loom::Tensor source = tokens({4, 5, 6});
  const loom::Tensor a = call(*model, {source, tokens({1, 7, 8, 9})});
  const loom::Tensor b = call(*model, {source, tokens({1, 7, 3, 9})});
  CHECK(loom::allclose(before(a, 2), before(b, 2), 1e-5, 1e-6));
  CHECK_FALSE(loom::allclose(a.narrow(1, 2, 1), b.narrow(1, 2, 1)));

  // The same source padded to 5 gives the same logits; unmasked (pad_id -1) the pads count.
  const loom::Tensor padded = tokens({4, 5, 6, 0, 0});
  CHECK(loom::allclose(call(*model, {padded, tokens({1, 7, 8, 9})}), a, 1e-5, 1e-6));
  nlohmann::json unmasked = kSeq2Seq;
  unmasked["pad_id"] = -1;
  auto plain = built(unmasked);
  CHECK_FALSE(loom::allclose(call(*plain, {padded, tokens({1, 7, 8, 9})}), call(*plain, {source, tokens({1, 7, 8, 9})}),
                             1e-5, 1e-6));
}

TEST_CASE("transformer_seq2seq: encode once, decode per step = forward") {
  auto model = built(kSeq2Seq);
  auto seq2seq = std::dynamic_pointer_cast<loom::archs::TokenSeq2Seq>(model);
  REQUIRE(seq2seq);
  const loom::Tensor source = tokens({4, 5, 6, 0, 3, 9, 0, 0}, 2), target = tokens({1, 7, 8, 2, 1, 5, 0, 0}, 2);
  loom::NoGradGuard no_grad;
  const loom::Tensor memory = seq2seq->encode(source);
  CHECK(memory.sizes() == loom::Shape{2, 4, 16});
  const loom::Tensor full = call(*model, {source, target});
  for (std::int64_t t = 1; t <= 4; ++t) {
    INFO("decoder input of length " << t);
    const loom::Tensor step = seq2seq->decode(memory, source, target.narrow(1, 0, t));
    CHECK(loom::allclose(step, before(full, t), 1e-5, 1e-6));
  }
}

TEST_CASE("the token models refuse inputs they cannot take, naming what they expected") {
  auto model = built(kSeq2Seq);
  CHECK(contains(message_of<loom::ShapeError>([&] { call(*model, {tokens({1, 2})}); }),
                 "transformer_seq2seq: expected two inputs {source (N, S), decoder input (N, T)}"));
  CHECK(contains(message_of<loom::ShapeError>([&] { call(*model, {tokens({1, 2}), tokens({1, 2, 3, 4}, 2)}); }),
                 "transformer_seq2seq: source and decoder input must be defined with one batch size"));
  auto lm = built({{"type", "transformer_lm"}, {"vocab_size", 9}, {"d_model", 8}, {"nhead", 2}, {"max_len", 4}});
  CHECK(contains(message_of<loom::ShapeError>([&] { call(*lm, {loom::randn({1, 3})}); }),
                 "transformer_lm: expected an input of (N, L) int64 tokens with 1 ≤ L ≤ max_len = 4, found (1, 3) float32"));
  CHECK(contains(message_of<loom::ShapeError>([&] { call(*lm, {tokens({1, 2, 3, 4, 5})}); }),
                 "found (1, 5) int64"));
}
