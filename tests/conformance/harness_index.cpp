// Family harness for index primitives: index_select, gather, scatter_add, masked_fill.
#include "conformance.hpp"

namespace conformance {
namespace {

const OpSpec& spec_of(Op op) {
  const OpSpec* spec = find_spec(op);
  REQUIRE_MESSAGE(spec != nullptr, "no spec row for " << loom::op_name(op));
  return *spec;
}

// An int64 index tensor with values in [0, bound) (repeats included).
Tensor index_tensor(const Shape& shape, i64 bound, Layout layout, std::uint64_t seed) {
  Domain d;
  d.ilo = 0, d.ihi = double(bound - 1);
  return make_input(shape, DType::Int64, layout, d, seed);
}

struct IndexCase {
  Layout x_layout;   // layout of the data input (or of out for scatter_add)
  Layout index_layout;
  Shape x_shape;
  Shape index_shape;  // index_select: (k); gather / scatter_add: index's full shape
  int dim;
};

std::string describe_index(Op op, DType dtype, const IndexCase& c) {
  return describe(op, dtype, c.x_layout, c.x_shape) + " index " + layout_name(c.index_layout) + " " +
         c.index_shape.str() + " dim " + std::to_string(c.dim);
}

void run_index_select() {
  const OpSpec& spec = spec_of(Op::index_select);
  const IndexCase cases[] = {
      {Layout::Contiguous, Layout::Contiguous, {4, 5, 6}, {7}, 0},
      {Layout::Contiguous, Layout::Contiguous, {4, 5, 6}, {7}, 1},
      {Layout::Contiguous, Layout::Contiguous, {4, 5, 6}, {7}, 2},
      {Layout::Transposed, Layout::Contiguous, {6, 9}, {4}, 1},
      {Layout::ChannelsLast, Layout::Contiguous, {2, 3, 4, 5}, {5}, 1},
      {Layout::ChannelsLast, Layout::Contiguous, {2, 3, 4, 5}, {3}, 3},
      {Layout::Contiguous, Layout::Strided, {4, 5, 6}, {6}, 1},
      {Layout::Broadcast, Layout::Broadcast, {4, 6}, {5}, 0},
      {Layout::SizeOne, Layout::SizeOne, {1}, {1}, 0},
      {Layout::Contiguous, Layout::Contiguous, {400, 300}, {350}, 0},
      {Layout::Transposed, Layout::Contiguous, {400, 300}, {350}, 1},
  };
  for (DType dtype : dtypes_to_test(Op::index_select, spec)) {
    for (const IndexCase& c : cases) {
      const std::string what = describe_index(Op::index_select, dtype, c);
      Tensor x = make_input(c.x_shape, dtype, c.x_layout, spec.a, 13);
      Tensor index = index_tensor(c.index_shape, c.x_shape[std::size_t(c.dim)], c.index_layout, 14);
      Shape out_shape = c.x_shape;
      out_shape[std::size_t(c.dim)] = c.index_shape[0];
      Tensor out_fast = loom::empty(out_shape, dtype), out_ref = loom::empty(out_shape, dtype);
      fast().index_select(out_fast, x, c.dim, index);
      reference().index_select(out_ref, x, c.dim, index);
      const auto ref = host(out_ref);
      check_values(host(out_fast), ref, {0, 0}, what + ": fast vs reference");
      const auto xs = host(x), is = host(index);
      std::vector<double> expected(ref.size());
      for (std::size_t i = 0; i < expected.size(); ++i) {
        auto coords = unravel(i64(i), out_shape);
        coords[std::size_t(c.dim)] = i64(is[std::size_t(coords[std::size_t(c.dim)])]);
        expected[i] = xs[std::size_t(ravel(coords, c.x_shape))];
      }
      check_values(ref, expected, {0, 0}, what + ": reference vs loop");
    }
  }
}

const IndexCase kGatherScatterCases[] = {
    {Layout::Contiguous, Layout::Contiguous, {4, 5, 6}, {3, 5, 4}, 0},
    {Layout::Contiguous, Layout::Contiguous, {4, 5, 6}, {4, 7, 6}, 1},
    {Layout::Contiguous, Layout::Contiguous, {4, 5, 6}, {2, 3, 9}, 2},
    {Layout::Transposed, Layout::Transposed, {6, 9}, {6, 9}, 0},
    {Layout::Contiguous, Layout::Transposed, {6, 9}, {5, 9}, 1},
    {Layout::ChannelsLast, Layout::ChannelsLast, {2, 3, 4, 5}, {2, 3, 4, 5}, 1},
    {Layout::Strided, Layout::Strided, {5, 7}, {5, 7}, 1},
    {Layout::Broadcast, Layout::Broadcast, {4, 6}, {4, 6}, 1},
    {Layout::SizeOne, Layout::SizeOne, {1}, {1}, 0},
    {Layout::Contiguous, Layout::Contiguous, {300, 400}, {300, 400}, 1},
    {Layout::Contiguous, Layout::Contiguous, {100, 1000}, {400, 1000}, 0},
};

void run_gather() {
  const OpSpec& spec = spec_of(Op::gather);
  for (DType dtype : dtypes_to_test(Op::gather, spec)) {
    for (const IndexCase& c : kGatherScatterCases) {
      const std::string what = describe_index(Op::gather, dtype, c);
      Tensor x = make_input(c.x_shape, dtype, c.x_layout, spec.a, 15);
      Tensor index = index_tensor(c.index_shape, c.x_shape[std::size_t(c.dim)], c.index_layout, 16);
      Tensor out_fast = loom::empty(c.index_shape, dtype), out_ref = loom::empty(c.index_shape, dtype);
      fast().gather(out_fast, x, c.dim, index);
      reference().gather(out_ref, x, c.dim, index);
      const auto ref = host(out_ref);
      check_values(host(out_fast), ref, {0, 0}, what + ": fast vs reference");
      const auto xs = host(x), is = host(index);
      std::vector<double> expected(ref.size());
      for (std::size_t i = 0; i < expected.size(); ++i) {
        auto coords = unravel(i64(i), c.index_shape);
        coords[std::size_t(c.dim)] = i64(is[i]);
        expected[i] = xs[std::size_t(ravel(coords, c.x_shape))];
      }
      check_values(ref, expected, {0, 0}, what + ": reference vs loop");
    }
  }
}

void run_scatter_add() {
  const OpSpec& spec = spec_of(Op::scatter_add);
  for (DType dtype : dtypes_to_test(Op::scatter_add, spec)) {
    for (const IndexCase& c : kGatherScatterCases) {
      const std::string what = describe_index(Op::scatter_add, dtype, c);
      // out starts as the same values for both backends.
      Tensor out_fast = make_input(c.x_shape, dtype, c.x_layout, spec.a, 17);
      Tensor out_ref = make_input(c.x_shape, dtype, c.x_layout, spec.a, 17);
      if (c.x_layout == Layout::Broadcast) {  // an output is never stride 0
        out_fast = out_fast.contiguous();
        out_ref = out_ref.contiguous();
      }
      const auto initial = host(out_ref);
      Tensor index = index_tensor(c.index_shape, c.x_shape[std::size_t(c.dim)], c.index_layout, 18);
      Tensor src = make_input(c.index_shape, dtype, c.index_layout, spec.a, 19);
      fast().scatter_add(out_fast, c.dim, index, src);
      reference().scatter_add(out_ref, c.dim, index, src);
      const auto ref = host(out_ref);
      check_values(host(out_fast), ref, tolerance(spec, dtype), what + ": fast vs reference");
      const auto is = host(index), ss = host(src);
      std::vector<double> expected = initial;
      for (std::size_t i = 0; i < ss.size(); ++i) {
        auto coords = unravel(i64(i), c.index_shape);
        coords[std::size_t(c.dim)] = i64(is[i]);
        expected[std::size_t(ravel(coords, c.x_shape))] += ss[i];
      }
      for (auto& e : expected) e = cast_to(dtype, e);
      check_values(ref, expected, tolerance(spec, dtype), what + ": reference vs loop");
    }
  }
}

void run_masked_fill() {
  const OpSpec& spec = spec_of(Op::masked_fill);
  for (DType dtype : dtypes_to_test(Op::masked_fill, spec)) {
    const loom::Scalar value = dtype == DType::Bool ? loom::Scalar(true)
                               : loom::is_floating(dtype) ? loom::Scalar(7.5) : loom::Scalar(7);
    for (const Case& c : elementwise_cases()) {
      const std::string what = describe(Op::masked_fill, dtype, c.layout, c.shape);
      Tensor x = make_input(c.shape, dtype, c.layout, spec.a, 20, 0);
      Tensor mask = make_input(c.shape, DType::Bool, c.layout, spec.a, 21, 1);
      Tensor out_fast = make_output(c.shape, dtype, c.layout), out_ref = make_output(c.shape, dtype, c.layout);
      fast().masked_fill(out_fast, x, mask, value);
      reference().masked_fill(out_ref, x, mask, value);
      const auto ref = host(out_ref);
      check_values(host(out_fast), ref, {0, 0}, what + ": fast vs reference");
      const auto xs = host(x), ms = host(mask);
      std::vector<double> expected(xs.size());
      for (std::size_t i = 0; i < xs.size(); ++i)
        expected[i] = ms[i] != 0 ? cast_to(dtype, value.to<double>()) : xs[i];
      check_values(ref, expected, {0, 0}, what + ": reference vs loop");
    }
  }
}

}  // namespace

void run_index(Op op) {
  if (op == Op::index_select) return run_index_select();
  if (op == Op::gather) return run_gather();
  if (op == Op::scatter_add) return run_scatter_add();
  if (op == Op::masked_fill) return run_masked_fill();
  FAIL("no conformance harness for index op " << loom::op_name(op));
}

}  // namespace conformance
