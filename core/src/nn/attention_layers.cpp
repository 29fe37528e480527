// MultiheadAttention: projections, PyTorch's masks brought to SDPA's polarity, heads.
#include <cmath>

#include "layer_inputs.hpp"
#include "loom/check.hpp"
#include "loom/nn/attention.hpp"
#include "loom/nn/functional/linear.hpp"
#include "loom/nn/init.hpp"
#include "loom/tensor_ops.hpp"

namespace loom::nn {

namespace {

constexpr const char* kName = "MultiheadAttention";

// An MHA-polarity mask (bool true = masked out; floating = added) in SDPA's (bool true = may attend).
Tensor to_sdpa_polarity(const Tensor& m) {
  if (!m.defined()) return m;
  return m.dtype() == DType::Bool ? logical_not(m) : m;
}

// An SDPA-polarity mask as scores to add: 0 where allowed, −inf where not.
Tensor additive(const Tensor& m, DType dtype) {
  if (m.dtype() != DType::Bool) return m;
  return masked_fill(zeros(m.sizes(), TensorOptions(dtype, m.device())), logical_not(m), -INFINITY);
}

// One SDPA mask from two (either may be undefined): both bool stay bool, else both additive.
Tensor combined(const Tensor& a, const Tensor& b, DType dtype) {
  if (!a.defined()) return b;
  if (!b.defined()) return a;
  if (a.dtype() == DType::Bool && b.dtype() == DType::Bool) return a & b;
  return additive(a, dtype) + additive(b, dtype);
}

void check_mask_dtype(const char* name, const Tensor& m, DType dtype) {
  LOOM_CHECK(m.dtype() == DType::Bool || m.dtype() == dtype, DTypeError,
             "{}: {} must be bool (true: masked out) or the query's dtype {} (added to the scores), found {}", kName,
             name, dtype_name(dtype), dtype_name(m.dtype()));
}

// A mask column for one more key (bias_kv, zero_attn): not masked (false, or 0 added).
Tensor with_one_more_key(const Tensor& m) { return m.defined() ? pad(m, {0, 1}, 0) : m; }

}  // namespace

MultiheadAttention::MultiheadAttention(MultiheadAttentionOptions o) : Module(kName), options(o) {
  if (options.kdim == 0) options.kdim = o.embed_dim;
  if (options.vdim == 0) options.vdim = o.embed_dim;
  const std::int64_t E = o.embed_dim;
  LOOM_CHECK(E >= 1 && o.num_heads >= 1, ValueError, "{}: embed_dim and num_heads must be ≥ 1, found {} and {}", kName,
             E, o.num_heads);
  LOOM_CHECK(E % o.num_heads == 0, ValueError, "{}: embed_dim {} must be divisible by num_heads {}", kName, E,
             o.num_heads);
  LOOM_CHECK(options.kdim >= 1 && options.vdim >= 1, ValueError, "{}: kdim and vdim must be ≥ 1, found {} and {}",
             kName, options.kdim, options.vdim);
  LOOM_CHECK(o.dropout >= 0 && o.dropout <= 1, ValueError, "{}: dropout must be in [0, 1], found {}", kName, o.dropout);
  if (same_dims()) {
    in_proj_weight = register_parameter("in_proj_weight", empty({3 * E, E}));
  } else {
    q_proj_weight = register_parameter("q_proj_weight", empty({E, E}));
    k_proj_weight = register_parameter("k_proj_weight", empty({E, options.kdim}));
    v_proj_weight = register_parameter("v_proj_weight", empty({E, options.vdim}));
  }
  if (o.bias) in_proj_bias = register_parameter("in_proj_bias", empty({3 * E}));
  if (o.add_bias_kv) {
    bias_k = register_parameter("bias_k", empty({1, 1, E}));
    bias_v = register_parameter("bias_v", empty({1, 1, E}));
  }
  out_proj = register_module("out_proj", std::make_shared<Linear>(E, E, o.bias));
  reset_parameters();
}

void MultiheadAttention::reset_parameters() {
  for (Tensor* w : {&in_proj_weight, &q_proj_weight, &k_proj_weight, &v_proj_weight})
    if (w->defined()) init::xavier_uniform_(*w);
  out_proj->reset_parameters();
  if (in_proj_bias.defined()) {
    init::zeros_(in_proj_bias);
    init::zeros_(out_proj->bias);
  }
  if (bias_k.defined()) {
    init::xavier_normal_(bias_k);
    init::xavier_normal_(bias_v);
  }
}

void MultiheadAttention::check_inputs(const Tensor& query, const Tensor& key, const Tensor& value) const {
  for (const Tensor* t : {&query, &key, &value}) {
    LOOM_CHECK(t->defined() && t->is_floating_point(), DTypeError,
               "{}: query, key and value must be floating tensors, found {}", kName,
               t->defined() ? dtype_name(t->dtype()) : "undefined");
  }
  LOOM_CHECK((query.dim() == 3 || query.dim() == 2) && key.dim() == query.dim() && value.dim() == query.dim(),
             ShapeError,
             "{}: expected query, key and value all 3-D (batched) or all 2-D (unbatched), found {}, {} and {}", kName,
             query.sizes().str(), key.sizes().str(), value.sizes().str());
  LOOM_CHECK(query.size(-1) == options.embed_dim && key.size(-1) == options.kdim && value.size(-1) == options.vdim,
             ShapeError,
             "{}: expected features embed_dim = {}, kdim = {}, vdim = {} in the last dims of query {}, key {} and "
             "value {}",
             kName, options.embed_dim, options.kdim, options.vdim, query.sizes().str(), key.sizes().str(),
             value.sizes().str());
}

MultiheadAttention::ScoreMasks MultiheadAttention::score_masks(const MultiheadAttentionCall& call, const Shape& nls,
                                                               bool batched, DType dtype) const {
  const std::int64_t N = nls[0], L = nls[1], S = nls[2], H = options.num_heads;
  ScoreMasks m{call.key_padding_mask, call.attn_mask};
  if (m.padding.defined()) {
    check_mask_dtype("key_padding_mask", m.padding, dtype);
    const Shape expected = batched ? Shape{N, S} : Shape{S};
    LOOM_CHECK(m.padding.sizes() == expected, ShapeError,
               "{}: key_padding_mask must be {} (batch, key length), found {}", kName, expected.str(),
               m.padding.sizes().str());
    m.padding = m.padding.reshape({N, 1, 1, S});
  }
  if (m.attn.defined()) {
    check_mask_dtype("attn_mask", m.attn, dtype);
    LOOM_CHECK(m.attn.sizes() == Shape({L, S}) || m.attn.sizes() == Shape({N * H, L, S}), ShapeError,
               "{}: attn_mask must be (L, S) = {} or (N·num_heads, L, S) = {}, found {}", kName, Shape({L, S}).str(),
               Shape({N * H, L, S}).str(), m.attn.sizes().str());
    if (m.attn.dim() == 3) m.attn = m.attn.reshape({N, H, L, S});
  }
  return m;
}

std::array<Tensor, 3> MultiheadAttention::project(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in,
                                                  bool self_attention) const {
  const std::int64_t E = options.embed_dim;
  if (self_attention && same_dims()) {
    // One GEMM with the packed in_proj_weight instead of three.
    const Tensor qkv = functional::linear(q_in, in_proj_weight, in_proj_bias);  // (N, L, 3E)
    return {qkv.narrow(-1, 0, E), qkv.narrow(-1, E, E), qkv.narrow(-1, 2 * E, E)};
  }
  auto weight_of = [&](int i, const Tensor& separate) {
    return same_dims() ? in_proj_weight.narrow(0, i * E, E) : separate;
  };
  auto bias_of = [&](int i) { return in_proj_bias.defined() ? in_proj_bias.narrow(0, i * E, E) : Tensor(); };
  return {functional::linear(q_in, weight_of(0, q_proj_weight), bias_of(0)),
          functional::linear(k_in, weight_of(1, k_proj_weight), bias_of(1)),
          functional::linear(v_in, weight_of(2, v_proj_weight), bias_of(2))};
}

functional::AttentionResult MultiheadAttention::forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                                        const MultiheadAttentionCall& call) {
  check_inputs(query, key, value);
  const std::int64_t E = options.embed_dim, H = options.num_heads, hd = E / H;
  const bool batched = query.dim() == 3;
  // (N, L, E) from here on.
  auto batch_major = [&](const Tensor& t) {
    return !batched ? t.unsqueeze(0) : options.batch_first ? t : t.transpose(0, 1);
  };
  const Tensor q_in = batch_major(query), k_in = batch_major(key), v_in = batch_major(value);
  const std::int64_t N = q_in.size(0), L = q_in.size(1);
  std::int64_t S = k_in.size(1);
  LOOM_CHECK(k_in.size(0) == N && v_in.size(0) == N && v_in.size(1) == S, ShapeError,
             "{}: query {}, key {} and value {} must share the batch size, and key and value the length", kName,
             query.sizes().str(), key.sizes().str(), value.sizes().str());
  ScoreMasks masks = score_masks(call, {N, L, S}, batched, query.dtype());

  auto [q, k, v] = project(q_in, k_in, v_in, query.same_impl(key) && key.same_impl(value));  // (N, L|S, E)
  if (bias_k.defined()) {
    k = cat({k, bias_k.expand({N, 1, E})}, 1);
    v = cat({v, bias_v.expand({N, 1, E})}, 1);
    masks = {with_one_more_key(masks.padding), with_one_more_key(masks.attn)};
    ++S;
  }
  auto heads = [&](const Tensor& t) { return t.reshape({N, t.size(1), H, hd}).transpose(1, 2); };
  q = heads(q);  // (N, H, L, hd)
  k = heads(k);  // (N, H, S, hd)
  v = heads(v);
  if (options.add_zero_attn) {
    const Tensor zero = zeros({N, H, 1, hd}, TensorOptions(k.dtype(), k.device()));
    k = cat({k, zero}, 2);
    v = cat({v, zero}, 2);
    masks = {with_one_more_key(masks.padding), with_one_more_key(masks.attn)};
    ++S;
  }
  Tensor allowed = to_sdpa_polarity(masks.attn);
  if (!allowed.defined() && call.is_causal) allowed = functional::causal_mask(L, S, query.device());
  const Tensor mask = combined(allowed, to_sdpa_polarity(masks.padding), q.dtype());

  const double p = is_training() ? options.dropout : 0.0;
  functional::AttentionResult r;
  if (call.need_weights) r = functional::scaled_dot_product_attention_with_weights(q, k, v, mask, p);
  else r.output = functional::scaled_dot_product_attention(q, k, v, mask, p);
  Tensor out = (*out_proj)(r.output.transpose(1, 2).reshape({N, L, E}));
  out = !batched ? out.squeeze(0) : options.batch_first ? out : out.transpose(0, 1);
  Tensor weights = r.weights;
  if (weights.defined()) {
    if (call.average_attn_weights) weights = weights.mean({1});
    if (!batched) weights = weights.squeeze(0);
  }
  return {out, weights};
}

Tensor MultiheadAttention::forward(const Tensor& x) {
  return forward(x, x, x, MultiheadAttentionCall{.need_weights = false}).output;
}

TensorList MultiheadAttention::forward(const TensorList& xs) {
  detail::check_input_count(kName, xs, 3, 5, "query, key, value[, key_padding_mask[, attn_mask]]");
  const MultiheadAttentionCall call{.key_padding_mask = detail::optional_input(xs, 3),
                                    .attn_mask = detail::optional_input(xs, 4)};
  functional::AttentionResult r = forward(xs[0], xs[1], xs[2], call);
  return {r.output, r.weights};
}

std::string MultiheadAttention::extra_repr() const {
  std::string s = fmt::format("embed_dim={}, num_heads={}, dropout={}, bias={}", options.embed_dim, options.num_heads,
                              options.dropout, options.bias);
  if (!same_dims()) s += fmt::format(", kdim={}, vdim={}", options.kdim, options.vdim);
  if (options.add_bias_kv) s += ", add_bias_kv=true";
  if (options.add_zero_attn) s += ", add_zero_attn=true";
  if (options.batch_first) s += ", batch_first=true";
  return s;
}

std::optional<LayerStats> MultiheadAttention::stats(const Shapes& inputs, const Shapes&) const {
  auto tokens = [](const Shape& s) { return s.size() == 0 || s.back() == 0 ? 0 : s.numel() / s.back(); };
  const Shape& q = inputs.at(0);
  const Shape& k = inputs.size() >= 3 ? inputs[1] : q;
  const Shape& v = inputs.size() >= 3 ? inputs[2] : q;
  const std::int64_t E = options.embed_dim;
  const std::int64_t projections = 2 * tokens(q) * E * E + tokens(k) * E * options.kdim + tokens(v) * E * options.vdim;
  // The two products of every head, QKᵀ and PV: each query token meets every key (the added bias
  // and zero keys included; a mask does not shorten the dense computation) in E multiply-adds.
  const std::int64_t batches = k.size() == 3 ? (options.batch_first ? k[0] : k[1]) : 1;
  const std::int64_t keys = (batches == 0 ? 0 : tokens(k) / batches) + (options.add_bias_kv ? 1 : 0) +
                            (options.add_zero_attn ? 1 : 0);
  return LayerStats{.multiply_adds = projections + 2 * tokens(q) * keys * E, .mixes_all_positions = true};
}

}  // namespace loom::nn
