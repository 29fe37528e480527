// The recurrent cells' fused pointwise primitives (loom/ops.def, family recurrent): validation
// and the backend call. Every operand is (N, k·H) for one H taken from the state.
#include <string_view>

#include "loom/check.hpp"
#include "ops/raw_ops.hpp"
#include "tensor/internal.hpp"

namespace loom::raw {

using detail::backend_checked;
using detail::make_tensor;

namespace {

// t must be (rows, columns) of `like`'s dtype and device.
void check_operand(std::string_view op, const char* name, const Tensor& t, const Tensor& like, std::int64_t rows,
                   std::int64_t columns) {
  LOOM_CHECK(t.defined(), ValueError, "{}: {} is undefined", op, name);
  LOOM_CHECK(t.dim() == 2 && t.size(0) == rows && t.size(1) == columns, ShapeError,
             "{}: expected {} of shape ({}, {}), found {}", op, name, rows, columns, t.sizes().str());
  LOOM_CHECK(t.dtype() == like.dtype(), DTypeError, "{}: expected {} of dtype {}, found {}", op, name,
             dtype_name(like.dtype()), dtype_name(t.dtype()));
  detail::check_same_device(op, like, t);
}

// The state (N, H) that fixes N and H, floating.
void check_state(std::string_view op, const char* name, const Tensor& s) {
  LOOM_CHECK(s.defined() && s.dim() == 2, ShapeError, "{}: expected {} of shape (N, H), found {}", op, name,
             s.defined() ? s.sizes().str() : std::string("an undefined tensor"));
  LOOM_CHECK(s.is_floating_point(), DTypeError, "{}: expected a floating {}, found {}", op, name,
             dtype_name(s.dtype()));
}

Tensor like(const Tensor& t, std::int64_t columns) { return make_tensor({t.size(0), columns}, t.dtype(), t.device()); }

}  // namespace

LstmCellResult lstm_cell(const Tensor& gi, const Tensor& gh, const Tensor& c_prev) {
  constexpr std::string_view op = "lstm_cell";
  check_state(op, "c_prev", c_prev);
  const std::int64_t n = c_prev.size(0), hidden = c_prev.size(1);
  check_operand(op, "gi", gi, c_prev, n, 4 * hidden);
  check_operand(op, "gh", gh, c_prev, n, 4 * hidden);
  LstmCellResult r{like(c_prev, hidden), like(c_prev, hidden), like(c_prev, 4 * hidden)};
  if (c_prev.numel() > 0) backend_checked(Op::lstm_cell, c_prev.device(), c_prev.dtype()).lstm_cell(r.h, r.c, r.act, gi, gh, c_prev);
  return r;
}

LstmCellGrads lstm_cell_backward(const Tensor& dh, const Tensor& dc, const Tensor& act, const Tensor& c,
                                 const Tensor& c_prev) {
  constexpr std::string_view op = "lstm_cell_backward";
  check_state(op, "c_prev", c_prev);
  const std::int64_t n = c_prev.size(0), hidden = c_prev.size(1);
  check_operand(op, "dh", dh, c_prev, n, hidden);
  check_operand(op, "dc", dc, c_prev, n, hidden);
  check_operand(op, "act", act, c_prev, n, 4 * hidden);
  check_operand(op, "c", c, c_prev, n, hidden);
  LstmCellGrads r{like(c_prev, 4 * hidden), like(c_prev, hidden)};
  if (c_prev.numel() > 0)
    backend_checked(Op::lstm_cell_backward, c_prev.device(), c_prev.dtype())
        .lstm_cell_backward(r.dgates, r.dc_prev, dh, dc, act, c, c_prev);
  return r;
}

GruCellResult gru_cell(const Tensor& gi, const Tensor& gh, const Tensor& h_prev) {
  constexpr std::string_view op = "gru_cell";
  check_state(op, "h_prev", h_prev);
  const std::int64_t n = h_prev.size(0), hidden = h_prev.size(1);
  check_operand(op, "gi", gi, h_prev, n, 3 * hidden);
  check_operand(op, "gh", gh, h_prev, n, 3 * hidden);
  GruCellResult r{like(h_prev, hidden), like(h_prev, 3 * hidden)};
  if (h_prev.numel() > 0) backend_checked(Op::gru_cell, h_prev.device(), h_prev.dtype()).gru_cell(r.h, r.act, gi, gh, h_prev);
  return r;
}

GruCellGrads gru_cell_backward(const Tensor& dh, const Tensor& act, const Tensor& gh, const Tensor& h_prev) {
  constexpr std::string_view op = "gru_cell_backward";
  check_state(op, "h_prev", h_prev);
  const std::int64_t n = h_prev.size(0), hidden = h_prev.size(1);
  check_operand(op, "dh", dh, h_prev, n, hidden);
  check_operand(op, "act", act, h_prev, n, 3 * hidden);
  check_operand(op, "gh", gh, h_prev, n, 3 * hidden);
  GruCellGrads r{like(h_prev, 3 * hidden), like(h_prev, 3 * hidden), like(h_prev, hidden)};
  if (h_prev.numel() > 0)
    backend_checked(Op::gru_cell_backward, h_prev.device(), h_prev.dtype())
        .gru_cell_backward(r.dgi, r.dgh, r.dh_prev, dh, act, gh, h_prev);
  return r;
}

}  // namespace loom::raw
