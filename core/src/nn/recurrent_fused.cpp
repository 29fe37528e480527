// The recurrent layers' fast path: one autograd node per layer and direction (as cuDNN's RNN).
// Its forward projects every step's input in one GEMM over (L·N, in), then per step runs one
// GEMM (h·w_hhᵀ) and one fused cell primitive (loom/ops.def, family recurrent), recording
// nothing inside. Its backward walks the steps back with the cell's backward primitive and one
// GEMM per step, collecting every step's gate gradients, so that dx, dw_ih and dw_hh are one
// GEMM each over all steps. Under create_graph the backward recomputes the pass with the
// composed ops (run_direction) and differentiates that, so double backward stays right.
#include <vector>

#include "loom/autograd.hpp"
#include "loom/check.hpp"
#include "loom/nn/functional/activation.hpp"
#include "loom/tensor_ops.hpp"
#include "ops/raw_ops.hpp"
#include "recurrent_step.hpp"

namespace loom::nn::detail {

namespace {

// What one pass computed per time step t (indexed by t, whatever the direction), for the backward.
struct Steps {
  std::vector<Tensor> h_prev;  // (N, H_out): the state step t read
  std::vector<Tensor> c_prev;  // (N, hidden): LSTM
  std::vector<Tensor> c;       // (N, hidden): the LSTM cell's new c (before padding keeps the old)
  std::vector<Tensor> act;     // LSTM and GRU: the primitive's act; RNN: the new h
  std::vector<Tensor> gh;      // GRU: h·w_hhᵀ + b_hh
  std::vector<Tensor> h_cell;  // LSTM with a projection: o·tanh(c) before w_hr
};

// The projection rows·wᵀ (+ b) of a 2-D input.
Tensor project(const Tensor& rows, const Tensor& w, const Tensor& b) {
  const Tensor y = matmul(rows, w.t());
  return b.defined() ? y + b : y;
}

struct Pass {
  Tensor output, h, c;
  Steps steps;
};

Pass forward_pass(RecurrentKind kind, const Tensor& x, const RecurrentWeights& w, const Tensor& h0, const Tensor& c0,
                  const Tensor& valid, bool reverse, bool save) {
  NoGradGuard no_grad;
  const std::int64_t steps = x.size(0), batch = x.size(1);
  // The LSTM and the RNN only use gi + gh: b_hh joins b_ih in the one GEMM over all steps, and
  // the per-step GEMM needs no bias add. (The GRU's b_hn must stay inside r·(...).)
  const bool fold = kind != RecurrentKind::GRU && w.b_hh.defined();
  const Tensor b_i = fold ? w.b_ih + w.b_hh : w.b_ih, b_h = fold ? Tensor() : w.b_hh;
  const Tensor gi_all =
      project(x.reshape({steps * batch, x.size(2)}), w.w_ih, b_i).view({steps, batch, w.w_ih.size(0)});
  Pass p;
  Steps& s = p.steps;
  const auto count = static_cast<std::size_t>(steps);
  if (save) {
    s.h_prev.resize(count), s.act.resize(count);
    if (kind == RecurrentKind::LSTM) s.c_prev.resize(count), s.c.resize(count);
    if (w.w_hr.defined()) s.h_cell.resize(count);
    if (kind == RecurrentKind::GRU) s.gh.resize(count);
  }
  std::vector<Tensor> outputs(count);
  Tensor h = h0.contiguous(), c = c0.defined() ? c0.contiguous() : Tensor();
  for (std::int64_t k = 0; k < steps; ++k) {
    const std::int64_t t = reverse ? steps - 1 - k : k;
    const auto i = static_cast<std::size_t>(t);
    const Tensor gi = gi_all.select(0, t), gh = project(h, w.w_hh, b_h);
    Tensor h_next, c_next, act;
    if (kind == RecurrentKind::LSTM) {
      raw::LstmCellResult r = raw::lstm_cell(gi, gh, c);
      h_next = w.w_hr.defined() ? matmul(r.h, w.w_hr.t()) : r.h;
      c_next = r.c, act = r.act;
      if (save) s.c_prev[i] = c, s.c[i] = r.c;
      if (save && w.w_hr.defined()) s.h_cell[i] = r.h;
    } else if (kind == RecurrentKind::GRU) {
      raw::GruCellResult r = raw::gru_cell(gi, gh, h);
      h_next = r.h, act = r.act;
      if (save) s.gh[i] = gh;
    } else {
      h_next = rnn_pointwise(kind, gi, gh);
      act = h_next;
    }
    if (save) s.h_prev[i] = h, s.act[i] = act;
    if (valid.defined()) {
      const Tensor m = valid.select(0, t);
      outputs[i] = where(m, h_next, 0.0);
      h = where(m, h_next, h);
      if (c_next.defined()) c = where(m, c_next, c);
    } else {
      outputs[i] = h_next;
      h = h_next;
      c = c_next;
    }
  }
  p.output = stack(outputs, 0);
  p.h = h;
  p.c = c;
  return p;
}

// The inputs of a pass's node, in a fixed order; undefined ones are left out of the record.
enum Slot { kX, kH0, kC0, kWih, kWhh, kBih, kBhh, kWhr, kSlots };

std::vector<Tensor> slots(const Tensor& x, const Tensor& h0, const Tensor& c0, const RecurrentWeights& w) {
  return {x, h0, c0, w.w_ih, w.w_hh, w.b_ih, w.b_hh, w.w_hr};
}

// The raw backward of one pass: gradients for every slot (undefined where not asked for).
struct Backward {
  RecurrentKind kind;
  bool reverse;
  Tensor valid;
  Steps steps;
  std::vector<autograd::SavedTensor> saved;  // by Slot
  std::vector<bool> wanted;                  // by Slot

  Tensor unpack(Slot k) const { return saved[k].defined() ? saved[k].unpack("recurrent_layer") : Tensor(); }

  std::vector<Tensor> operator()(const TensorList& grads) const {
    if (is_grad_enabled()) return composed(grads);
    const Tensor x = unpack(kX), w_ih = unpack(kWih), w_hh = unpack(kWhh), w_hr = unpack(kWhr);
    const std::int64_t length = x.size(0), batch = x.size(1);
    const bool lstm = kind == RecurrentKind::LSTM, gru = kind == RecurrentKind::GRU;
    const Tensor& h_last = steps.h_prev[0];
    Tensor dh = grads[1].defined() ? grads[1] : zeros_like(h_last);
    Tensor dc = lstm ? (grads.size() > 2 && grads[2].defined() ? grads[2] : zeros_like(steps.c_prev[0])) : Tensor();
    const auto count = static_cast<std::size_t>(length);
    std::vector<Tensor> dgi(count), dgh(gru ? count : 0), dproj(w_hr.defined() ? count : 0);
    for (std::int64_t k = 0; k < length; ++k) {
      const std::int64_t t = reverse ? k : length - 1 - k;  // the forward's order, backwards
      const auto i = static_cast<std::size_t>(t);
      Tensor dh_new = grads[0].defined() ? dh + grads[0].select(0, t) : dh, dh_keep, dc_new = dc, dc_keep;
      if (valid.defined()) {  // a padded step passed the state through and output a constant 0
        const Tensor m = valid.select(0, t);
        dh_new = where(m, dh_new, 0.0), dh_keep = where(m, 0.0, dh);
        if (lstm) dc_new = where(m, dc, 0.0), dc_keep = where(m, 0.0, dc);
      }
      if (lstm) {
        Tensor dh_cell = dh_new;
        if (w_hr.defined()) dproj[i] = dh_new, dh_cell = matmul(dh_new, w_hr);
        raw::LstmCellGrads g = raw::lstm_cell_backward(dh_cell, dc_new, steps.act[i], steps.c[i], steps.c_prev[i]);
        dgi[i] = g.dgates;
        dh = matmul(g.dgates, w_hh);
        dc = dc_keep.defined() ? g.dc_prev + dc_keep : g.dc_prev;
      } else if (gru) {
        raw::GruCellGrads g = raw::gru_cell_backward(dh_new, steps.act[i], steps.gh[i], steps.h_prev[i]);
        dgi[i] = g.dgi, dgh[i] = g.dgh;
        dh = g.dh_prev + matmul(g.dgh, w_hh);
      } else {
        const Tensor& h = steps.act[i];
        dgi[i] = kind == RecurrentKind::RNNReLU ? where(gt(h, 0.0), dh_new, 0.0) : dh_new * (1.0 - h * h);
        dh = matmul(dgi[i], w_hh);
      }
      if (dh_keep.defined()) dh = dh + dh_keep;
    }
    // Every step's gate gradients as rows (L·N, G·hidden): one GEMM per weight.
    // (Sizes spelled out: a batch of no sequences has no elements to infer a -1 from.)
    auto rows = [length, batch](const std::vector<Tensor>& per_step) {
      return stack(per_step, 0).view({length * batch, per_step[0].size(1)});
    };
    const Tensor gi_rows = rows(dgi);
    const Tensor gh_rows = gru ? rows(dgh) : gi_rows;
    std::vector<Tensor> out(kSlots);
    if (wanted[kX]) out[kX] = matmul(gi_rows, w_ih).view(x.sizes());
    out[kH0] = dh;
    out[kC0] = dc;
    if (wanted[kWih]) out[kWih] = matmul(gi_rows.t(), x.reshape({length * batch, x.size(2)}));
    if (wanted[kWhh]) out[kWhh] = matmul(gh_rows.t(), rows(steps.h_prev));
    if (wanted[kBih]) out[kBih] = gi_rows.sum({0});
    if (wanted[kBhh]) out[kBhh] = gh_rows.sum({0});
    if (wanted[kWhr])
      out[kWhr] = matmul(rows(dproj).t(), rows(steps.h_cell));
    return out;
  }

  // create_graph: the composed pass, recomputed from the saved inputs, differentiated.
  std::vector<Tensor> composed(const TensorList& grads) const {
    std::vector<Tensor> in(kSlots);
    for (int k = 0; k < kSlots; ++k) in[static_cast<std::size_t>(k)] = unpack(static_cast<Slot>(k));
    const RecurrentWeights w{in[kWih], in[kWhh], in[kBih], in[kBhh], in[kWhr]};
    const DirectionResult r = run_direction(kind, in[kX], w, in[kH0], in[kC0], valid, reverse);
    const TensorList results{r.output, r.h, r.c};
    TensorList outputs, grad_outputs, wrt;
    for (std::size_t k = 0; k < grads.size(); ++k)
      if (grads[k].defined()) outputs.push_back(results[k]), grad_outputs.push_back(grads[k]);
    std::vector<std::size_t> where_from;
    for (std::size_t k = 0; k < kSlots; ++k)
      if (wanted[k] && in[k].defined() && in[k].requires_grad()) wrt.push_back(in[k]), where_from.push_back(k);
    std::vector<Tensor> out(kSlots);
    if (outputs.empty() || wrt.empty()) return out;
    const TensorList g = autograd::grad(outputs, wrt, grad_outputs, true, true, true);
    for (std::size_t k = 0; k < where_from.size(); ++k) out[where_from[k]] = g[k];
    return out;
  }
};

}  // namespace

DirectionResult run_direction_fused(RecurrentKind kind, const Tensor& x, const RecurrentWeights& w, const Tensor& h0,
                                    const Tensor& c0, const Tensor& valid, bool reverse) {
  const std::vector<Tensor> all = slots(x, h0, c0, w);
  TensorList inputs;
  std::vector<std::size_t> slot_of;  // the slot of each recorded input
  for (std::size_t k = 0; k < all.size(); ++k)
    if (all[k].defined()) inputs.push_back(all[k]), slot_of.push_back(k);
  const bool record = autograd::any_requires_grad(inputs);
  Pass p = forward_pass(kind, x, w, h0, c0, valid, reverse, record);
  if (!record) return {p.output, p.h, p.c};

  auto backward = std::make_shared<Backward>();
  backward->kind = kind, backward->reverse = reverse, backward->valid = valid;
  backward->steps = std::move(p.steps);
  backward->saved.resize(kSlots);
  backward->wanted.resize(kSlots);
  for (std::size_t k = 0; k < all.size(); ++k) {
    backward->saved[k] = autograd::SavedTensor(all[k], false);
    backward->wanted[k] = all[k].defined() && all[k].requires_grad();
  }
  // Fresh handles: the node's outputs must not be the tensors its backward holds (the last step's
  // h or c), or the node would hold itself through their grad_fn.
  TensorList outputs{p.output.detach(), p.h.detach()};
  if (p.c.defined()) outputs.push_back(p.c.detach());
  autograd::record_function("recurrent_layer", inputs, outputs, [backward, slot_of](const TensorList& grads) {
    const std::vector<Tensor> by_slot = (*backward)(grads);
    TensorList out;
    for (std::size_t k : slot_of) out.push_back(backward->wanted[k] ? by_slot[k] : Tensor());
    return out;
  });
  return {outputs[0], outputs[1], p.c.defined() ? outputs[2] : Tensor()};
}

}  // namespace loom::nn::detail
