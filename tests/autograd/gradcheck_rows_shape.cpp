// Gradcheck rows of views, conversions, indexing and joining.
#include "gradcheck_rows_internal.hpp"

namespace loom_autograd_test {

namespace {

// Rows whose one input is a fresh normal leaf of `shape` and whose op is `op`.
void add_view(RowTable& t, const std::string& name, const std::string& variant, loom::Shape shape,
              std::function<Tensor(const Tensor&)> op, bool records_node = true) {
  t[name].push_back({variant, [shape] { return TensorList{randn_leaf(shape)}; },
                     [op](const TensorList& in) { return TensorList{op(in[0])}; }, {}, records_node});
}

Tensor strided_2x3() { return strided_leaf(loom::randn({2, 6}, f64)); }

}  // namespace

void add_shape_rows(RowTable& t) {
  // ---- views ----
  add_view(t, "view", "(2, 6) as (3, 4)", {2, 6}, [](const Tensor& x) { return x.view({3, 4}); });
  add_view(t, "view", "(2, 3, 2) as (-1)", {2, 3, 2}, [](const Tensor& x) { return x.view({-1}); });
  add_view(t, "reshape", "(2, 6) as (4, 3)", {2, 6}, [](const Tensor& x) { return x.reshape({4, 3}); });
  add_view(t, "reshape", "transposed view (copies)", {3, 4}, [](const Tensor& x) { return x.t().reshape({-1}); });
  t["reshape"].push_back({"strided leaf (copies)", [] { return TensorList{strided_2x3()}; },
                          [](const TensorList& in) { return TensorList{in[0].reshape({3, 2})}; }});
  add_view(t, "transpose", "dims 0 and 2 of (2, 3, 4)", {2, 3, 4}, [](const Tensor& x) { return x.transpose(0, 2); });
  t["transpose"].push_back({"dims -1, -2 of a strided leaf", [] { return TensorList{strided_2x3()}; },
                            [](const TensorList& in) { return TensorList{in[0].transpose(-1, -2)}; }});
  add_view(t, "permute", "{2, 0, 1} of (2, 3, 4)", {2, 3, 4}, [](const Tensor& x) { return x.permute({2, 0, 1}); });
  add_view(t, "permute", "{-1, 0, 1} of (2, 3, 4)", {2, 3, 4}, [](const Tensor& x) { return x.permute({-1, 0, 1}); });
  add_view(t, "slice", "dim 0 [1, 5) step 2 of (5, 4)", {5, 4}, [](const Tensor& x) { return x.slice(0, 1, 5, 2); });
  add_view(t, "slice", "dim 1 [1, 3) of (3, 4)", {3, 4}, [](const Tensor& x) { return x.slice(1, 1, 3); });
  t["slice"].push_back({"dim 1 step 2 of a strided leaf", [] { return TensorList{strided_2x3()}; },
                        [](const TensorList& in) { return TensorList{in[0].slice(1, 0, 3, 2)}; }});
  add_view(t, "select", "dim 0 index 1 of (3, 4)", {3, 4}, [](const Tensor& x) { return x.select(0, 1); });
  add_view(t, "select", "dim 1 index -1 of (3, 4)", {3, 4}, [](const Tensor& x) { return x.select(1, -1); });
  add_view(t, "select", "operator[] of a transposed view", {3, 4}, [](const Tensor& x) { return x.t()[2]; });
  add_view(t, "expand", "(3, 1) to (2, 3, 4)", {3, 1}, [](const Tensor& x) { return x.expand({2, 3, 4}); });
  add_view(t, "expand", "(3, 1) to (-1, 5)", {3, 1}, [](const Tensor& x) { return x.expand({-1, 5}); });
  add_view(t, "squeeze", "all of (2, 1, 3, 1)", {2, 1, 3, 1}, [](const Tensor& x) { return x.squeeze(); });
  add_view(t, "squeeze", "dim 1 of (2, 1, 3, 1)", {2, 1, 3, 1}, [](const Tensor& x) { return x.squeeze(1); });
  add_view(t, "squeeze", "dim -1 of (2, 1, 3, 1)", {2, 1, 3, 1}, [](const Tensor& x) { return x.squeeze(-1); });
  add_view(t, "unsqueeze", "dim 0 of (2, 3)", {2, 3}, [](const Tensor& x) { return x.unsqueeze(0); });
  add_view(t, "unsqueeze", "dim -1 of a transposed view", {2, 3}, [](const Tensor& x) { return x.t().unsqueeze(-1); });
  // Overlapping windows: storage elements 3 and 5 are read twice, so their gradients add up.
  add_view(t, "as_strided", "overlapping windows (3, 3) strides (2, 1) offset 1 of (8)", {8},
           [](const Tensor& x) { return x.as_strided({3, 3}, {2, 1}, 1); });
  add_view(t, "as_strided", "every other element of (2, 4)", {2, 4},
           [](const Tensor& x) { return x.as_strided({2, 2}, {4, 2}, 1); });
  t["as_strided"].push_back({"row 0 of a strided leaf (its storage has gaps)", [] { return TensorList{strided_2x3()}; },
                             [](const TensorList& in) { return TensorList{in[0].as_strided({3}, {2}, 0)}; }});

  // ---- conversions ----
  // Through float32 the values are rounded to ~6e-8 relative: a 1e-3 step keeps the
  // finite-difference error near 1e-4, far below a wrong rule's error (order 1).
  loom::autograd::GradcheckOptions float32_round_trip;
  float32_round_trip.eps = 1e-3;
  float32_round_trip.atol = 1e-3;
  float32_round_trip.rtol = 1e-2;
  t["to_dtype"].push_back({"float64 → float32 → float64", [] { return TensorList{randn_leaf({2, 3})}; },
                           [](const TensorList& in) {
                             return TensorList{in[0].to(loom::DType::Float32).to(loom::DType::Float64)};
                           },
                           float32_round_trip});
  t["to_dtype"].push_back({"float64 → float32 of a transposed view", [] { return TensorList{randn_leaf({3, 2})}; },
                           [](const TensorList& in) { return TensorList{in[0].t().to(loom::DType::Float32)}; },
                           float32_round_trip});
  // to() returns the tensor itself when nothing changes, so no node is recorded.
  add_view(t, "to_dtype", "float64 → float64 of a transposed view (identity)", {3, 2},
           [](const Tensor& x) { return x.t().to(loom::DType::Float64); }, false);
  add_view(t, "to_device", "cpu → cpu (identity)", {2, 3}, [](const Tensor& x) { return x.to(loom::Device("cpu")); },
           false);
  t["to_device"].push_back({"cpu → cpu of a strided leaf (identity)", [] { return TensorList{strided_2x3()}; },
                            [](const TensorList& in) { return TensorList{in[0].to("cpu") * 2.0}; }, {}, false});
  add_view(t, "clone", "(2, 3)", {2, 3}, [](const Tensor& x) { return x.clone(); });
  add_view(t, "clone", "transposed view, contiguous format", {2, 3},
           [](const Tensor& x) { return x.t().clone(loom::MemoryFormat::Contiguous); });
  t["clone"].push_back({"strided leaf", [] { return TensorList{strided_2x3()}; },
                        [](const TensorList& in) { return TensorList{in[0].clone()}; }});

  // ---- composite views ----
  add_view(t, "narrow", "dim 0 start 1 length 2 of (4, 3)", {4, 3}, [](const Tensor& x) { return x.narrow(0, 1, 2); });
  add_view(t, "narrow", "dim 1 start -2 length 2 of (4, 3)", {4, 3}, [](const Tensor& x) { return x.narrow(1, -2, 2); });
  add_view(t, "flatten", "all of (2, 3, 2)", {2, 3, 2}, [](const Tensor& x) { return x.flatten(); });
  add_view(t, "flatten", "dims 1..2 of (2, 3, 2)", {2, 3, 2}, [](const Tensor& x) { return x.flatten(1, 2); });
  add_view(t, "flatten", "a transposed view (copies)", {3, 2}, [](const Tensor& x) { return x.t().flatten(); });
  add_view(t, "unflatten", "dim 1 of (2, 6) into (2, 3)", {2, 6}, [](const Tensor& x) { return x.unflatten(1, {2, 3}); });
  add_view(t, "unflatten", "dim 0 of (6) into (-1, 2)", {6}, [](const Tensor& x) { return x.unflatten(0, {-1, 2}); });
  add_view(t, "t", "(2, 3)", {2, 3}, [](const Tensor& x) { return x.t(); });
  add_view(t, "t", "1-D (3)", {3}, [](const Tensor& x) { return x.t() * 2.0; });
  t["t"].push_back({"strided leaf", [] { return TensorList{strided_2x3()}; },
                    [](const TensorList& in) { return TensorList{in[0].t()}; }});
  add_view(t, "contiguous", "a transposed view (copies)", {2, 3}, [](const Tensor& x) { return x.t().contiguous(); });
  add_view(t, "contiguous", "already contiguous (itself)", {2, 3}, [](const Tensor& x) { return x.contiguous() * 3.0; });
  t["contiguous"].push_back({"strided leaf", [] { return TensorList{strided_2x3()}; },
                             [](const TensorList& in) { return TensorList{in[0].contiguous()}; }});
  add_view(t, "expand_as", "(3, 1) as (2, 3, 4)", {3, 1},
           [](const Tensor& x) { return x.expand_as(loom::zeros({2, 3, 4}, f64)); });

  // ---- indexing (repeated indices make the gradients accumulate) ----
  t["index_select"].push_back({"dim 0 of (4, 3), indices {0, 2, 2, 3, 0}", [] { return TensorList{randn_leaf({4, 3})}; },
                               [](const TensorList& in) {
                                 return TensorList{loom::index_select(in[0], 0, index({0, 2, 2, 3, 0}, {5}))};
                               }});
  t["index_select"].push_back({"dim 1 of a strided leaf, indices {2, 2, 0}", [] { return TensorList{strided_2x3()}; },
                               [](const TensorList& in) {
                                 return TensorList{loom::index_select(in[0], 1, index({2, 2, 0}, {3}))};
                               }});
  t["index_select"].push_back({"dim -1 of a transposed view", [] { return TensorList{randn_leaf({3, 2})}; },
                               [](const TensorList& in) {
                                 return TensorList{loom::index_select(in[0].t(), -1, index({1, 1}, {2}))};
                               }});
  t["gather"].push_back({"dim 1 of (3, 4), repeated indices", [] { return TensorList{randn_leaf({3, 4})}; },
                         [](const TensorList& in) {
                           return TensorList{loom::gather(in[0], 1, index({0, 0, 3, 1, 2, 1, 3, 3, 3}, {3, 3}))};
                         }});
  t["gather"].push_back({"dim 0 of a strided leaf, index smaller than the input", [] { return TensorList{strided_2x3()}; },
                         [](const TensorList& in) { return TensorList{loom::gather(in[0], 0, index({1, 1, 0}, {1, 3}))}; }});
  t["scatter_add"].push_back({"dim 1, repeated indices, src (2, 4) larger than index (2, 3)",
                              [] { return TensorList{randn_leaf({3, 5}), randn_leaf({2, 4})}; },
                              [](const TensorList& in) {
                                return TensorList{loom::scatter_add(in[0], 1, index({0, 4, 0, 2, 2, 1}, {2, 3}), in[1])};
                              }});
  t["scatter_add"].push_back({"dim 0, strided src, transposed x",
                              [] { return TensorList{randn_leaf({3, 2}), strided_2x3()}; },
                              [](const TensorList& in) {
                                return TensorList{loom::scatter_add(in[0].t(), 0, index({1, 1, 0, 1, 1, 1}, {2, 3}), in[1])};
                              }});
  t["scatter_add"].push_back({"only src requires grad", [] { return TensorList{randn_leaf({2, 3})}; },
                              [](const TensorList& in) {
                                return TensorList{loom::scatter_add(loom::zeros({2, 3}, f64), 1,
                                                                    index({2, 2, 2, 0, 1, 0}, {2, 3}), in[0])};
                              }});

  // ---- joining ----
  t["cat"].push_back({"dim 1: contiguous, strided leaf, transposed view",
                      [] { return TensorList{randn_leaf({2, 3}), strided_2x3(), randn_leaf({1, 2})}; },
                      [](const TensorList& in) { return TensorList{loom::cat({in[0], in[1], in[2].t()}, 1)}; }});
  t["cat"].push_back({"dim 0, one part without grad", [] { return TensorList{randn_leaf({2, 3}), randn_leaf({1, 3})}; },
                      [](const TensorList& in) {
                        return TensorList{loom::cat({in[0], loom::ones({2, 3}, f64), in[1]}, 0)};
                      }});
  t["stack"].push_back({"dim 0 of three (2, 3)", [] { return TensorList{randn_leaf({2, 3}), strided_2x3(), randn_leaf({3, 2})}; },
                        [](const TensorList& in) { return TensorList{loom::stack({in[0], in[1], in[2].t()}, 0)}; }});
  t["stack"].push_back({"dim -1", [] { return TensorList{randn_leaf({2, 3}), randn_leaf({2, 3})}; },
                        [](const TensorList& in) { return TensorList{loom::stack({in[0], in[1]}, -1)}; }});
  t["pad"].push_back({"last dim (1, 2)", [] { return TensorList{randn_leaf({2, 3})}; },
                      [](const TensorList& in) { return TensorList{loom::pad(in[0], {1, 2})}; }});
  t["pad"].push_back({"two dims, value -1.5, strided leaf", [] { return TensorList{strided_2x3()}; },
                      [](const TensorList& in) { return TensorList{loom::pad(in[0], {1, 0, 2, 1}, -1.5)}; }});
  t["slice_scatter"].push_back({"dim 0 step 2: x (4, 5), src (2, 5)",
                                [] { return TensorList{randn_leaf({4, 5}), randn_leaf({2, 5})}; },
                                [](const TensorList& in) { return TensorList{loom::slice_scatter(in[0], in[1], 0, 0, 4, 2)}; }});
  t["slice_scatter"].push_back({"dim 1 [1, 4): transposed x, strided src",
                                [] { return TensorList{randn_leaf({4, 2}), strided_leaf(loom::randn({2, 6}, f64))}; },
                                [](const TensorList& in) {
                                  return TensorList{loom::slice_scatter(in[0].t(), in[1], 1, 1, 4)};
                                }});
}

}  // namespace loom_autograd_test
