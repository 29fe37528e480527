// Linear, activations, dropout, embedding and containers.
#include <cmath>

#include "loom/check.hpp"
#include "loom/nn/activation.hpp"
#include "loom/nn/container.hpp"
#include "loom/nn/dropout.hpp"
#include "loom/nn/embedding.hpp"
#include "loom/nn/init.hpp"
#include "loom/nn/linear.hpp"

namespace loom::nn {

// ---- Linear, Flatten ----
Linear::Linear(LinearOptions o) : Module("Linear"), options(o) {
  LOOM_CHECK(o.in_features > 0 && o.out_features > 0, ValueError,
             "Linear: in_features and out_features must be ≥ 1, found {} and {}", o.in_features, o.out_features);
  weight = register_parameter("weight", empty({o.out_features, o.in_features}));
  if (o.bias) bias = register_parameter("bias", empty({o.out_features}));
  reset_parameters();
}

void Linear::reset_parameters() {
  init::default_weight_(weight);
  if (bias.defined()) init::default_bias_(bias, options.in_features);
}

Tensor Linear::forward(const Tensor& x) { return functional::linear(x, weight, bias); }

std::string Linear::extra_repr() const {
  return fmt::format("in_features={}, out_features={}, bias={}", options.in_features, options.out_features,
                     options.bias);
}

std::optional<LayerStats> Linear::stats(const Shapes&, const Shapes& outputs) const {
  return LayerStats{.multiply_adds = outputs[0].numel() * options.in_features, .mixes_all_positions = true};
}

std::string Flatten::extra_repr() const { return fmt::format("start_dim={}, end_dim={}", start_dim, end_dim); }

// ---- activations ----
std::string LeakyReLU::extra_repr() const { return fmt::format("negative_slope={}", negative_slope); }
std::string ELU::extra_repr() const { return fmt::format("alpha={}", alpha); }
std::string GELU::extra_repr() const { return tanh_approximation ? "approximate='tanh'" : ""; }
std::string Softmax::extra_repr() const { return fmt::format("dim={}", dim); }
std::string LogSoftmax::extra_repr() const { return fmt::format("dim={}", dim); }

PReLU::PReLU(std::int64_t num_parameters, double init) : Module("PReLU") {
  LOOM_CHECK(num_parameters >= 1, ValueError, "PReLU: num_parameters must be ≥ 1, found {}", num_parameters);
  weight = register_parameter("weight", full({num_parameters}, init));
}
std::string PReLU::extra_repr() const { return fmt::format("num_parameters={}", weight.numel()); }

Maxout::Maxout(std::int64_t in_features, std::int64_t out_features, std::int64_t pieces)
    : Module("Maxout"), pieces(pieces) {
  LOOM_CHECK(pieces >= 1, ValueError, "Maxout: pieces must be ≥ 1, found {}", pieces);
  linear = register_module("linear", std::make_shared<Linear>(in_features, out_features * pieces));
}
Tensor Maxout::forward(const Tensor& x) { return functional::maxout((*linear)(x), pieces); }
std::string Maxout::extra_repr() const { return fmt::format("pieces={}", pieces); }
// x (*, in) → linear (*, out·pieces) → y (*, out): the linear's multiply-adds, out·pieces · in per row.
std::optional<LayerStats> Maxout::stats(const Shapes& inputs, const Shapes& outputs) const {
  return LayerStats{.multiply_adds = outputs[0].numel() * pieces * inputs[0].back(), .mixes_all_positions = true};
}

// ---- dropout ----
Dropout::Dropout(double p) : Module("Dropout"), p(p) {
  LOOM_CHECK(p >= 0 && p <= 1, ValueError, "Dropout: p must be in [0, 1], found {}", p);
}
std::string Dropout::extra_repr() const { return fmt::format("p={}", p); }
Dropout2d::Dropout2d(double p) : Module("Dropout2d"), p(p) {
  LOOM_CHECK(p >= 0 && p <= 1, ValueError, "Dropout2d: p must be in [0, 1], found {}", p);
}
std::string Dropout2d::extra_repr() const { return fmt::format("p={}", p); }

// ---- embedding ----
Embedding::Embedding(EmbeddingOptions o) : Module("Embedding"), options(o) {
  LOOM_CHECK(o.num_embeddings > 0 && o.embedding_dim > 0, ValueError,
             "Embedding: num_embeddings and embedding_dim must be ≥ 1, found {} and {}", o.num_embeddings,
             o.embedding_dim);
  LOOM_CHECK(o.padding_idx < o.num_embeddings, IndexError,
             "Embedding: padding_idx {} is out of range for {} embeddings", o.padding_idx, o.num_embeddings);
  weight = register_parameter("weight", empty({o.num_embeddings, o.embedding_dim}));
  init::normal_(weight, 0.0, 1.0);
  if (o.padding_idx >= 0) {
    NoGradGuard no_grad;
    weight.select(0, o.padding_idx).fill_(0);
  }
}
Tensor Embedding::forward(const Tensor& indices) {
  if (indices.numel() > 0) {
    const std::int64_t lo = loom::min(indices).item<std::int64_t>(), hi = loom::max(indices).item<std::int64_t>();
    LOOM_CHECK(lo >= 0 && hi < options.num_embeddings, IndexError,
               "Embedding: indices must be in [0, {}), found values in [{}, {}]", options.num_embeddings, lo, hi);
  }
  return functional::embedding(indices, weight, options.padding_idx);
}
std::string Embedding::extra_repr() const {
  return options.padding_idx >= 0
             ? fmt::format("{}, {}, padding_idx={}", options.num_embeddings, options.embedding_dim, options.padding_idx)
             : fmt::format("{}, {}", options.num_embeddings, options.embedding_dim);
}

// ---- containers ----
Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> modules) : Module("Sequential") {
  for (const auto& m : modules) push_back(m);
}
Sequential& Sequential::push_back(std::shared_ptr<Module> module) {
  return push_back(std::to_string(size()), std::move(module));
}
Sequential& Sequential::push_back(const std::string& name, std::shared_ptr<Module> module) {
  add_child(name, std::move(module));
  return *this;
}
Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (const auto& [name, m] : named_children()) h = (*m)(h);
  return h;
}
TensorList Sequential::forward(const TensorList& xs) {
  TensorList h = xs;
  for (const auto& [name, m] : named_children()) h = (*m)(h);
  return h;
}
std::shared_ptr<Module> Sequential::operator[](std::size_t i) const {
  auto children = named_children();
  LOOM_CHECK(i < children.size(), IndexError, "Sequential: index {} is out of range for {} modules", i, children.size());
  return children[i].second;
}

ModuleList::ModuleList(std::initializer_list<std::shared_ptr<Module>> modules) : Module("ModuleList") {
  for (const auto& m : modules) push_back(m);
}
ModuleList& ModuleList::push_back(std::shared_ptr<Module> module) {
  add_child(std::to_string(size()), std::move(module));
  return *this;
}
std::shared_ptr<Module> ModuleList::operator[](std::size_t i) const {
  auto children = named_children();
  LOOM_CHECK(i < children.size(), IndexError, "ModuleList: index {} is out of range for {} modules", i, children.size());
  return children[i].second;
}
Tensor ModuleList::forward(const Tensor&) {
  LOOM_THROW(ValueError, "ModuleList has no forward of its own: call its modules from your module's forward");
}

ModuleDict& ModuleDict::insert(const std::string& name, std::shared_ptr<Module> module) {
  add_child(name, std::move(module));
  return *this;
}
std::shared_ptr<Module> ModuleDict::operator[](const std::string& name) const {
  auto m = child(name);
  LOOM_CHECK(m != nullptr, ValueError, "ModuleDict: no module named '{}'", name);
  return m;
}
Tensor ModuleDict::forward(const Tensor&) {
  LOOM_THROW(ValueError, "ModuleDict has no forward of its own: call its modules from your module's forward");
}

}  // namespace loom::nn
