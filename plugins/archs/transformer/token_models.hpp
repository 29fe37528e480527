#pragma once
// The public face of "transformer_seq2seq" for programs that decode step by step: build the model
// by name, cast it to TokenSeq2Seq, encode the source once and call decode() on the growing
// decoder input, instead of re-encoding the source at every step as forward() would.
//
// ```cpp
// #include "transformer/token_models.hpp"   // include path: plugins/archs
// auto model = std::dynamic_pointer_cast<loom::archs::TokenSeq2Seq>(loom::nn::build(config));
// loom::Tensor memory = model->encode(source);                 // (N, S, d_model)
// loom::Tensor logits = model->decode(memory, source, prefix);  // (N, T, tgt_vocab)
// ```
//
// Only inline and pure virtual members: the type information is emitted in every program that
// uses it, so the cast works although the plugin is loaded at run time and linked by nobody. The
// class is visible (not hidden like the rest of the plugin) so that its type information matches.
#include "loom/nn/module.hpp"
#include "loom/tensor.hpp"

namespace loom::archs {

class __attribute__((visibility("default"))) TokenSeq2Seq : public nn::Module {
 public:
  using nn::Module::Module;
  // source (N, S) int64 → memory (N, S, d_model): the encoder's output, source padding masked.
  virtual Tensor encode(const Tensor& source) = 0;
  // memory from encode(source); source again for its padding mask; decoder input (N, T) int64 →
  // logits (N, T, tgt_vocab), each position seeing the decoder input up to itself.
  virtual Tensor decode(const Tensor& memory, const Tensor& source, const Tensor& target) = 0;
};

}  // namespace loom::archs
