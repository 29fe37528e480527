// Gradcheck rows of reductions, normalisers and matrix products.
#include "gradcheck_rows_internal.hpp"

namespace loom_autograd_test {

namespace {

// A (2, 3) leaf with one zero in row 0, and one with two zeros in row 0: prod's rule must not
// divide by zero (one zero: that entry gets the product of the others; two: all get 0).
Tensor one_zero() { return leaf({0.7, 0.0, 1.3, 1.1, 0.9, -0.8}, {2, 3}); }
Tensor two_zeros() { return leaf({0.0, 1.2, 0.0, 1.1, 0.9, -0.8}, {2, 3}); }

}  // namespace

void add_reduction_rows(RowTable& t) {
  t["sum"].push_back({"all of (2, 3, 4)", [] { return TensorList{randn_leaf({2, 3, 4})}; },
                      [](const TensorList& in) { return TensorList{loom::sum(in[0])}; }});
  t["sum"].push_back({"dims {0, 2} of (2, 3, 4)", [] { return TensorList{randn_leaf({2, 3, 4})}; },
                      [](const TensorList& in) { return TensorList{loom::sum(in[0], {0, 2})}; }});
  t["sum"].push_back({"dim 1 keepdim of a strided leaf", [] { return TensorList{strided_leaf(loom::randn({2, 6}, f64))}; },
                      [](const TensorList& in) { return TensorList{in[0].sum({1}, true)}; }});
  t["sum"].push_back({"dim -1 of a transposed view", [] { return TensorList{randn_leaf({3, 2})}; },
                      [](const TensorList& in) { return TensorList{loom::sum(in[0].t(), {-1})}; }});

  t["mean"].push_back({"all of (2, 3, 4)", [] { return TensorList{randn_leaf({2, 3, 4})}; },
                       [](const TensorList& in) { return TensorList{in[0].mean()}; }});
  t["mean"].push_back({"dims {0, 2} keepdim of (2, 3, 4)", [] { return TensorList{randn_leaf({2, 3, 4})}; },
                       [](const TensorList& in) { return TensorList{loom::mean(in[0], {0, 2}, true)}; }});
  t["mean"].push_back({"dim 0 of a strided leaf", [] { return TensorList{strided_leaf(loom::randn({2, 6}, f64))}; },
                       [](const TensorList& in) { return TensorList{loom::mean(in[0], {0})}; }});

  t["prod"].push_back({"all, no zero", [] { return TensorList{uniform_leaf({2, 3}, 0.5, 1.5)}; },
                       [](const TensorList& in) { return TensorList{loom::prod(in[0])}; }});
  t["prod"].push_back({"dim 1, no zero, strided leaf",
                       [] { return TensorList{strided_leaf(loom::rand({2, 6}, f64) + 0.5)}; },
                       [](const TensorList& in) { return TensorList{loom::prod(in[0], {1})}; }});
  t["prod"].push_back({"dim 1 keepdim, one zero in a row", [] { return TensorList{one_zero()}; },
                       [](const TensorList& in) { return TensorList{loom::prod(in[0], {1}, true)}; }});
  t["prod"].push_back({"dim 1, two zeros in a row", [] { return TensorList{two_zeros()}; },
                       [](const TensorList& in) { return TensorList{loom::prod(in[0], {1})}; }});
  t["prod"].push_back({"all, one zero", [] { return TensorList{one_zero()}; },
                       [](const TensorList& in) { return TensorList{loom::prod(in[0])}; }});
  t["prod"].push_back({"all, two zeros", [] { return TensorList{two_zeros()}; },
                       [](const TensorList& in) { return TensorList{loom::prod(in[0])}; }});

  for (const char* name : {"max", "min"}) {
    const bool is_max = name[1] == 'a';
    auto op = [is_max](const Tensor& x) { return is_max ? loom::max(x) : loom::min(x); };
    t[name].push_back({"all of (3, 4), distinct values", [] { return TensorList{kink_free({3, 4}).requires_grad_()}; },
                       [op](const TensorList& in) { return TensorList{op(in[0])}; }});
    t[name].push_back({"all of a strided leaf", [] { return TensorList{strided_leaf(kink_free({2, 6}))}; },
                       [op](const TensorList& in) { return TensorList{op(in[0])}; }});
    auto op_dim = [is_max](const Tensor& x, std::int64_t d, bool keep) {
      return is_max ? loom::max(x, d, keep).values : loom::min(x, d, keep).values;
    };
    const std::string dim_name = std::string(name) + "_dim";
    t[dim_name].push_back({"dim 1 of (3, 4)", [] { return TensorList{kink_free({3, 4}).requires_grad_()}; },
                           [op_dim](const TensorList& in) { return TensorList{op_dim(in[0], 1, false)}; }});
    t[dim_name].push_back({"dim 0 keepdim of (3, 4)", [] { return TensorList{kink_free({3, 4}).requires_grad_()}; },
                           [op_dim](const TensorList& in) { return TensorList{op_dim(in[0], 0, true)}; }});
    t[dim_name].push_back({"dim -1 of a transposed view", [] { return TensorList{kink_free({4, 3}).requires_grad_()}; },
                           [op_dim](const TensorList& in) { return TensorList{op_dim(in[0].t(), -1, false)}; }});
    t[dim_name].push_back({"dim 1 of a strided leaf", [] { return TensorList{strided_leaf(kink_free({2, 6}))}; },
                           [op_dim](const TensorList& in) { return TensorList{op_dim(in[0], 1, false)}; }});
  }

  t["logsumexp"].push_back({"dim 1 of (3, 4)", [] { return TensorList{randn_leaf({3, 4})}; },
                            [](const TensorList& in) { return TensorList{loom::logsumexp(in[0], {1})}; }});
  t["logsumexp"].push_back({"dims {0, 1} keepdim", [] { return TensorList{randn_leaf({3, 4})}; },
                            [](const TensorList& in) { return TensorList{loom::logsumexp(in[0], {0, 1}, true)}; }});
  t["logsumexp"].push_back({"dim 0 of a strided leaf", [] { return TensorList{strided_leaf(loom::randn({2, 6}, f64))}; },
                            [](const TensorList& in) { return TensorList{loom::logsumexp(in[0], {0})}; }});

  for (const char* name : {"softmax", "log_softmax"}) {
    const bool log = name[0] == 'l';
    auto op = [log](const Tensor& x, std::int64_t d) { return log ? loom::log_softmax(x, d) : loom::softmax(x, d); };
    t[name].push_back({"dim 1 of (3, 4)", [] { return TensorList{randn_leaf({3, 4})}; },
                       [op](const TensorList& in) { return TensorList{op(in[0], 1)}; }});
    t[name].push_back({"dim 0 of (3, 4)", [] { return TensorList{randn_leaf({3, 4})}; },
                       [op](const TensorList& in) { return TensorList{op(in[0], 0)}; }});
    t[name].push_back({"dim -1 of a transposed view", [] { return TensorList{randn_leaf({4, 3})}; },
                       [op](const TensorList& in) { return TensorList{op(in[0].t(), -1)}; }});
    t[name].push_back({"dim 1 of a strided leaf", [] { return TensorList{strided_leaf(loom::randn({2, 6}, f64))}; },
                       [op](const TensorList& in) { return TensorList{op(in[0], 1)}; }});
  }

  for (const char* name : {"var", "std"}) {
    const bool is_std = name[0] == 's';
    auto op = [is_std](const Tensor& x, const loom::Shape& d, bool unbiased, bool keep) {
      return is_std ? loom::std(x, d, unbiased, keep) : loom::var(x, d, unbiased, keep);
    };
    t[name].push_back({"dim 1 unbiased", [] { return TensorList{randn_leaf({3, 4})}; },
                       [op](const TensorList& in) { return TensorList{op(in[0], {1}, true, false)}; }});
    t[name].push_back({"dims {0, 1} biased keepdim", [] { return TensorList{randn_leaf({3, 4})}; },
                       [op](const TensorList& in) { return TensorList{op(in[0], {0, 1}, false, true)}; }});
    t[name].push_back({"dim 0 of a strided leaf", [] { return TensorList{strided_leaf(loom::randn({3, 6}, f64))}; },
                       [op](const TensorList& in) { return TensorList{op(in[0], {0}, true, false)}; }});
  }

  t["matmul"].push_back({"1-D · 1-D", [] { return TensorList{randn_leaf({3}), randn_leaf({3})}; },
                         [](const TensorList& in) { return TensorList{loom::matmul(in[0], in[1])}; }});
  t["matmul"].push_back({"1-D · 2-D", [] { return TensorList{randn_leaf({3}), randn_leaf({3, 4})}; },
                         [](const TensorList& in) { return TensorList{loom::matmul(in[0], in[1])}; }});
  t["matmul"].push_back({"2-D · 1-D", [] { return TensorList{randn_leaf({2, 3}), randn_leaf({3})}; },
                         [](const TensorList& in) { return TensorList{loom::matmul(in[0], in[1])}; }});
  t["matmul"].push_back({"2-D · 2-D", [] { return TensorList{randn_leaf({2, 3}), randn_leaf({3, 4})}; },
                         [](const TensorList& in) { return TensorList{loom::matmul(in[0], in[1])}; }});
  t["matmul"].push_back({"batched, broadcast (2, 1, 2, 3) · (3, 3, 2)",
                         [] { return TensorList{randn_leaf({2, 1, 2, 3}), randn_leaf({3, 3, 2})}; },
                         [](const TensorList& in) { return TensorList{loom::matmul(in[0], in[1])}; }});
  t["matmul"].push_back({"batched (2, 2, 3) · 2-D (3, 2)", [] { return TensorList{randn_leaf({2, 2, 3}), randn_leaf({3, 2})}; },
                         [](const TensorList& in) { return TensorList{in[0].matmul(in[1])}; }});
  t["matmul"].push_back({"strided leaf · transposed view",
                         [] { return TensorList{strided_leaf(loom::randn({2, 6}, f64)), randn_leaf({4, 3})}; },
                         [](const TensorList& in) { return TensorList{loom::matmul(in[0], in[1].t())}; }});
  t["matmul"].push_back({"only the right operand requires grad", [] { return TensorList{randn_leaf({3, 4})}; },
                         [](const TensorList& in) {
                           Tensor a = loom::from_vector<double>({1.0, -2.0, 0.5, 3.0, 0.25, -1.0}, {2, 3}, f64);
                           return TensorList{loom::matmul(a, in[0])};
                         }});

  t["bmm"].push_back({"(2, 2, 3) · (2, 3, 2)", [] { return TensorList{randn_leaf({2, 2, 3}), randn_leaf({2, 3, 2})}; },
                      [](const TensorList& in) { return TensorList{loom::bmm(in[0], in[1])}; }});
  t["bmm"].push_back({"transposed views", [] { return TensorList{randn_leaf({2, 3, 2}), randn_leaf({2, 2, 3})}; },
                      [](const TensorList& in) {
                        return TensorList{loom::bmm(in[0].transpose(1, 2), in[1].transpose(1, 2))};
                      }});
}

}  // namespace loom_autograd_test
