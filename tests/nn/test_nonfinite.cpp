// The NaN/Inf table (issue 15, defect 1): every activation, loss and reduction of Loom against
// PyTorch 1.13 when one input element is NaN, +Inf or −Inf — the outputs, the indices of the ops
// that return them, the gradients of sum(output), and the inputs PyTorch refuses (Loom must
// refuse them too). Fixtures: nonfinite_fixtures.json, written by make_nonfinite_fixtures.py;
// the walk over this file's op table fails on an op without fixtures and on a fixture without op.
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "common/fixture_numbers.hpp"
#include "loom/autograd.hpp"
#include "loom/nn/functional.hpp"
#include "loom/tensor_ops.hpp"

namespace {

using loom_test::fixture_numbers;

using loom::Tensor;
using loom::TensorList;
using loom::nn::Reduction;
namespace F = loom::nn::functional;

struct Result {
  Tensor output;   // floating, or undefined for argmax/argmin
  Tensor indices;  // int64, for the ops that return them
};
using Fn = std::function<Result(const TensorList&)>;

Result out(Tensor t) { return {std::move(t), Tensor()}; }

// The names of make_nonfinite_fixtures.py's OPS, as Loom calls.
const std::map<std::string, Fn>& ops() {
  static const std::map<std::string, Fn> table = {
      // activations
      {"relu", [](const TensorList& x) { return out(F::relu(x[0])); }},
      {"leaky_relu", [](const TensorList& x) { return out(F::leaky_relu(x[0], 0.01)); }},
      {"elu", [](const TensorList& x) { return out(F::elu(x[0], 1.0)); }},
      {"gelu", [](const TensorList& x) { return out(F::gelu(x[0])); }},
      {"gelu_tanh", [](const TensorList& x) { return out(F::gelu(x[0], /*tanh_approximation=*/true)); }},
      {"silu", [](const TensorList& x) { return out(F::silu(x[0])); }},
      {"prelu", [](const TensorList& x) { return out(F::prelu(x[0], loom::full({1}, 0.25, loom::DType::Float64))); }},
      {"maxout", [](const TensorList& x) { return out(F::maxout(x[0], 2)); }},
      {"tanh", [](const TensorList& x) { return out(loom::tanh(x[0])); }},
      {"sigmoid", [](const TensorList& x) { return out(loom::sigmoid(x[0])); }},
      {"softmax", [](const TensorList& x) { return out(loom::softmax(x[0], 1)); }},
      {"log_softmax", [](const TensorList& x) { return out(loom::log_softmax(x[0], 1)); }},
      // reductions
      {"sum", [](const TensorList& x) { return out(loom::sum(x[0])); }},
      {"sum_dim1", [](const TensorList& x) { return out(loom::sum(x[0], {1})); }},
      {"mean", [](const TensorList& x) { return out(loom::mean(x[0])); }},
      {"mean_dim1", [](const TensorList& x) { return out(loom::mean(x[0], {1})); }},
      {"prod_dim1", [](const TensorList& x) { return out(loom::prod(x[0], {1})); }},
      {"max", [](const TensorList& x) { return out(loom::max(x[0])); }},
      {"min", [](const TensorList& x) { return out(loom::min(x[0])); }},
      {"max_dim1", [](const TensorList& x) { auto r = loom::max(x[0], 1); return Result{r.values, r.indices}; }},
      {"min_dim1", [](const TensorList& x) { auto r = loom::min(x[0], 1); return Result{r.values, r.indices}; }},
      {"argmax_dim1", [](const TensorList& x) { return Result{Tensor(), loom::argmax(x[0], 1)}; }},
      {"argmin_dim1", [](const TensorList& x) { return Result{Tensor(), loom::argmin(x[0], 1)}; }},
      {"logsumexp_dim1", [](const TensorList& x) { return out(loom::logsumexp(x[0], {1})); }},
      {"var_dim1", [](const TensorList& x) { return out(loom::var(x[0], {1})); }},
      {"std_dim1", [](const TensorList& x) { return out(loom::std(x[0], {1})); }},
      // losses
      {"mse_input", [](const TensorList& x) { return out(F::mse_loss(x[0], x[1], {Reduction::None})); }},
      {"mse_target", [](const TensorList& x) { return out(F::mse_loss(x[0], x[1], {Reduction::None})); }},
      {"l1_input", [](const TensorList& x) { return out(F::l1_loss(x[0], x[1], {Reduction::None})); }},
      {"l1_target", [](const TensorList& x) { return out(F::l1_loss(x[0], x[1], {Reduction::None})); }},
      {"smooth_l1_input", [](const TensorList& x) { return out(F::smooth_l1_loss(x[0], x[1], {.reduction = Reduction::None})); }},
      {"huber_input", [](const TensorList& x) { return out(F::huber_loss(x[0], x[1], {.reduction = Reduction::None})); }},
      {"bce_input", [](const TensorList& x) { return out(F::binary_cross_entropy(x[0], x[1], {.reduction = Reduction::None})); }},
      {"bce_with_logits_input",
       [](const TensorList& x) { return out(F::binary_cross_entropy_with_logits(x[0], x[1], {.reduction = Reduction::None})); }},
      {"kl_div_input", [](const TensorList& x) { return out(F::kl_div(x[0], x[1], {.reduction = Reduction::None})); }},
      {"cross_entropy_none", [](const TensorList& x) { return out(F::cross_entropy(x[0], x[1], {.reduction = Reduction::None})); }},
      {"cross_entropy_mean", [](const TensorList& x) { return out(F::cross_entropy(x[0], x[1])); }},
      {"nll_none", [](const TensorList& x) { return out(F::nll_loss(x[0], x[1], {.reduction = Reduction::None})); }},
      {"multi_margin_none", [](const TensorList& x) { return out(F::multi_margin_loss(x[0], x[1], {.reduction = Reduction::None})); }},
  };
  return table;
}

// Where Loom departs from PyTorch on purpose: the NaN stays in row 0 (the row holding the special
// value), so only row 1 is compared with PyTorch and row 0's output must be NaN.
const std::map<std::string, const char*> kDepartures = {
    {"multi_margin_none(nan)",
     "PyTorch's kernel adds a margin only when `z > 0`, which is false for NaN: a NaN score of a "
     "non-target class gives a finite loss (0.625 here) and a NaN target score gives 0. Loom keeps "
     "the NaN (relu), like PyTorch's own relu and every other loss"},
};

// The fixture's inputs: (2, 4) float64 tensors (requiring gradients), and the (2,) int64 class
// targets of the classification losses.
TensorList inputs_of(const nlohmann::json& listed) {
  TensorList inputs;
  for (const auto& list : listed) {
    if (list.size() == 8) {
      inputs.push_back(loom::from_vector(fixture_numbers(list), {2, 4}).requires_grad_());
    } else {
      inputs.push_back(loom::from_vector(list.get<std::vector<std::int64_t>>()));
    }
  }
  return inputs;
}

// Same non-finite kind, or equal within rtol.
void check_same(const std::string& what, const std::vector<double>& found, const std::vector<double>& expected) {
  REQUIRE_MESSAGE(found.size() == expected.size(), what << ": " << found.size() << " values, PyTorch has " << expected.size());
  for (std::size_t i = 0; i < found.size(); ++i) {
    const double f = found[i], e = expected[i];
    const bool ok = (std::isnan(f) && std::isnan(e)) || f == e ||
                    (std::isfinite(e) && std::isfinite(f) && std::abs(f - e) <= 1e-10 * std::max(1.0, std::abs(e)));
    CHECK_MESSAGE(ok, what << "[" << i << "]: Loom " << f << ", PyTorch " << e);
  }
}

// The second half of a list: row 1 of a (2, ...) tensor.
std::vector<double> row1(const std::vector<double>& v) { return {v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end()}; }

void check_case(const std::string& what, const Fn& fn, const nlohmann::json& c) {
  const bool departs = kDepartures.count(what) > 0;
  if (c.contains("error")) {  // PyTorch refuses the input: so must Loom, with a typed error
    bool refused = false;
    try {
      fn(inputs_of(c["inputs"]));
    } catch (const loom::Error&) {
      refused = true;
    }
    CHECK_MESSAGE(refused, what << ": PyTorch refuses this input (\"" << c["error"].get<std::string>()
                                << "\"), Loom computed a result");
    return;
  }
  const TensorList inputs = inputs_of(c["inputs"]);
  const Result r = fn(inputs);
  if (c.contains("indices")) {
    REQUIRE_MESSAGE(r.indices.defined(), what << ": expected indices");
    CHECK_MESSAGE(r.indices.to_vector<std::int64_t>() == c["indices"].get<std::vector<std::int64_t>>(), what << ": indices");
  }
  if (!c.contains("output")) return;
  const std::vector<double> output = r.output.to_vector<double>();
  if (departs) {
    INFO(kDepartures.at(what));
    CHECK_MESSAGE(std::isnan(output.at(0)), what << ": Loom keeps the NaN of row 0, found " << output.at(0));
    check_same(what + " output of row 1", row1(output), row1(fixture_numbers(c["output"])));
  } else {
    check_same(what + " output", output, fixture_numbers(c["output"]));
  }
  loom::sum(r.output).backward();
  std::size_t g = 0;
  for (const Tensor& x : inputs) {
    if (!x.requires_grad()) continue;
    const nlohmann::json& expected = c["grads"][g++];
    const std::string name = what + " gradient of input " + std::to_string(g - 1);
    if (expected.is_null()) {
      CHECK_MESSAGE((!x.grad().defined() || loom::equal(x.grad(), loom::zeros_like(x.grad()))), name << ": PyTorch has none");
    } else {
      REQUIRE_MESSAGE(x.grad().defined(), name << ": Loom has none");
      const std::vector<double> grad = x.grad().to_vector<double>();
      if (departs) {
        check_same(name + " of row 1", row1(grad), row1(fixture_numbers(expected)));
      } else {
        check_same(name, grad, fixture_numbers(expected));
      }
    }
  }
}

const nlohmann::json& fixtures() {
  static const nlohmann::json cases = [] {
    std::ifstream in(LOOM_NONFINITE_FIXTURES);
    REQUIRE_MESSAGE(in.good(), "cannot open " << LOOM_NONFINITE_FIXTURES);
    return nlohmann::json::parse(in)["cases"];
  }();
  return cases;
}

}  // namespace

TEST_SUITE("nonfinite") {

TEST_CASE("the table and the fixtures name the same ops") {
  for (const auto& [name, fn] : ops()) CHECK_MESSAGE(fixtures().contains(name), name << " has no fixtures (run make_nonfinite_fixtures.py)");
  for (const auto& [name, c] : fixtures().items()) CHECK_MESSAGE(ops().count(name), name << " has fixtures but no Loom call");
}

TEST_CASE("every activation, loss and reduction propagates NaN and infinities as PyTorch") {
  for (const auto& [name, fn] : ops()) {
    if (!fixtures().contains(name)) continue;
    for (const char* special : {"nan", "inf", "-inf"}) {
      const std::string what = name + "(" + special + ")";
      try {
        check_case(what, fn, fixtures()[name][special]);
      } catch (const std::exception& e) {
        FAIL_CHECK(what << ": " << e.what());
      }
    }
  }
}

}
