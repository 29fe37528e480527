// Recurrent-cell primitives: fast ("cpu") vs reference, and the reference against the formulas
// of loom/ops.def computed here in double on row-major host copies. Inputs contiguous and
// transposed (the reference's strides, and the fast kernels' fallback to them), from one row
// and one unit to sizes past the fast kernels' parallel threshold.
#include <cmath>
#include <functional>

#include "conformance.hpp"
#include "loom/backend.hpp"

namespace conformance {
namespace {

struct CellCase {
  i64 N, H;
};

const std::vector<CellCase>& cell_cases() {
  static const std::vector<CellCase> cases = {{1, 1}, {3, 4}, {5, 7}, {128, 33}};
  return cases;
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

// Host copies of an op's operands and the expected outputs, by name.
using Host = std::vector<double>;
// Element (n, j) of a row-major (N, columns) host copy.
struct At {
  const Host& v;
  i64 columns;
  double operator()(i64 n, i64 j) const { return v[std::size_t(n * columns + j)]; }
};

// Expected outputs of `op` from the host copies of its inputs, in the primitive's output order.
std::vector<Host> formula(Op op, const std::vector<Host>& in, i64 N, i64 H) {
  const std::size_t nh = std::size_t(N * H);
  switch (op) {
    case Op::lstm_cell: {  // in: gi, gh, c_prev → h, c, act
      const At gi{in[0], 4 * H}, gh{in[1], 4 * H}, cp{in[2], H};
      Host h(nh), c(nh), act(4 * nh);
      for (i64 n = 0; n < N; ++n)
        for (i64 j = 0; j < H; ++j) {
          const double i = sigmoid(gi(n, j) + gh(n, j)), f = sigmoid(gi(n, H + j) + gh(n, H + j));
          const double g = std::tanh(gi(n, 2 * H + j) + gh(n, 2 * H + j)), o = sigmoid(gi(n, 3 * H + j) + gh(n, 3 * H + j));
          const std::size_t k = std::size_t(n * H + j), a = std::size_t(n * 4 * H + j);
          c[k] = f * cp(n, j) + i * g;
          h[k] = o * std::tanh(c[k]);
          act[a] = i, act[a + std::size_t(H)] = f, act[a + std::size_t(2 * H)] = g, act[a + std::size_t(3 * H)] = o;
        }
      return {h, c, act};
    }
    case Op::lstm_cell_backward: {  // in: dh, dc, act, c, c_prev → dgates, dc_prev
      const At dh{in[0], H}, dc{in[1], H}, act{in[2], 4 * H}, c{in[3], H}, cp{in[4], H};
      Host dg(4 * nh), dcp(nh);
      for (i64 n = 0; n < N; ++n)
        for (i64 j = 0; j < H; ++j) {
          const double i = act(n, j), f = act(n, H + j), g = act(n, 2 * H + j), o = act(n, 3 * H + j);
          const double tc = std::tanh(c(n, j)), dct = dc(n, j) + dh(n, j) * o * (1 - tc * tc);
          const std::size_t a = std::size_t(n * 4 * H + j);
          dg[a] = dct * g * i * (1 - i);
          dg[a + std::size_t(H)] = dct * cp(n, j) * f * (1 - f);
          dg[a + std::size_t(2 * H)] = dct * i * (1 - g * g);
          dg[a + std::size_t(3 * H)] = dh(n, j) * tc * o * (1 - o);
          dcp[std::size_t(n * H + j)] = dct * f;
        }
      return {dg, dcp};
    }
    case Op::gru_cell: {  // in: gi, gh, h_prev → h, act
      const At gi{in[0], 3 * H}, gh{in[1], 3 * H}, hp{in[2], H};
      Host h(nh), act(3 * nh);
      for (i64 n = 0; n < N; ++n)
        for (i64 j = 0; j < H; ++j) {
          const double r = sigmoid(gi(n, j) + gh(n, j)), z = sigmoid(gi(n, H + j) + gh(n, H + j));
          const double nv = std::tanh(gi(n, 2 * H + j) + r * gh(n, 2 * H + j));
          const std::size_t a = std::size_t(n * 3 * H + j);
          h[std::size_t(n * H + j)] = (1 - z) * nv + z * hp(n, j);
          act[a] = r, act[a + std::size_t(H)] = z, act[a + std::size_t(2 * H)] = nv;
        }
      return {h, act};
    }
    default: {  // gru_cell_backward; in: dh, act, gh, h_prev → dgi, dgh, dh_prev
      const At dh{in[0], H}, act{in[1], 3 * H}, gh{in[2], 3 * H}, hp{in[3], H};
      Host dgi(3 * nh), dgh(3 * nh), dhp(nh);
      for (i64 n = 0; n < N; ++n)
        for (i64 j = 0; j < H; ++j) {
          const double r = act(n, j), z = act(n, H + j), nv = act(n, 2 * H + j);
          const double dn = dh(n, j) * (1 - z) * (1 - nv * nv), dr = dn * gh(n, 2 * H + j) * r * (1 - r);
          const double dz = dh(n, j) * (hp(n, j) - nv) * z * (1 - z);
          const std::size_t a = std::size_t(n * 3 * H + j);
          dgi[a] = dr, dgi[a + std::size_t(H)] = dz, dgi[a + std::size_t(2 * H)] = dn;
          dgh[a] = dr, dgh[a + std::size_t(H)] = dz, dgh[a + std::size_t(2 * H)] = dn * r;
          dhp[std::size_t(n * H + j)] = dh(n, j) * z;
        }
      return {dgi, dgh, dhp};
    }
  }
}

// Column counts (in units of H) of the op's inputs and outputs, in the primitive's order.
struct Signature {
  std::vector<i64> inputs, outputs;
};
Signature signature(Op op) {
  switch (op) {
    case Op::lstm_cell: return {{4, 4, 1}, {1, 1, 4}};
    case Op::lstm_cell_backward: return {{1, 1, 4, 1, 1}, {4, 1}};
    case Op::gru_cell: return {{3, 3, 1}, {1, 3}};
    default: return {{1, 3, 3, 1}, {3, 3, 1}};
  }
}

// Calls the primitive of `op` on `backend` with outputs then inputs.
void call(Backend& backend, Op op, const std::vector<Tensor>& out, const std::vector<Tensor>& in) {
  switch (op) {
    case Op::lstm_cell: return backend.lstm_cell(out[0], out[1], out[2], in[0], in[1], in[2]);
    case Op::lstm_cell_backward: return backend.lstm_cell_backward(out[0], out[1], in[0], in[1], in[2], in[3], in[4]);
    case Op::gru_cell: return backend.gru_cell(out[0], out[1], in[0], in[1], in[2]);
    default: return backend.gru_cell_backward(out[0], out[1], out[2], in[0], in[1], in[2], in[3]);
  }
}

void run_cell_case(Op op, DType dtype, Layout layout, const CellCase& c, const OpSpec& spec) {
  const std::string what = describe(op, dtype, layout, {c.N, c.H});
  INFO(what);
  const Signature sig = signature(op);
  std::vector<Tensor> in, fast_out, ref_out;
  std::vector<Host> host_in;
  for (std::size_t k = 0; k < sig.inputs.size(); ++k) {
    in.push_back(make_input({c.N, sig.inputs[k] * c.H}, dtype, layout, spec.a, 40 + k));
    host_in.push_back(host(in.back()));
  }
  for (i64 columns : sig.outputs) {
    fast_out.push_back(make_output({c.N, columns * c.H}, dtype, Layout::Contiguous));
    ref_out.push_back(make_output({c.N, columns * c.H}, dtype, Layout::Contiguous));
  }
  call(fast(), op, fast_out, in);
  call(reference(), op, ref_out, in);
  const std::vector<Host> expected = formula(op, host_in, c.N, c.H);
  const Tolerance tol = tolerance(spec, dtype);
  for (std::size_t k = 0; k < ref_out.size(); ++k) {
    const std::string output = what + ": output " + std::to_string(k);
    check_values(host(fast_out[k]), host(ref_out[k]), tol, output + ", fast vs reference");
    check_values(host(ref_out[k]), expected[k], tol, output + ", reference vs formula");
  }
}

}  // namespace

void run_recurrent(Op op) {
  const OpSpec* spec = find_spec(op);
  REQUIRE(spec != nullptr);
  for (DType dtype : dtypes_to_test(op, *spec))
    for (const CellCase& c : cell_cases())
      for (Layout layout : {Layout::Contiguous, Layout::Transposed}) run_cell_case(op, dtype, layout, c, *spec);
}

}  // namespace conformance
