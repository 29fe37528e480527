// Every floating elementwise primitive of loom/ops.def (LOOM_UNARY_FLOAT and LOOM_BINARY_FLOAT rows)
// against PyTorch 1.13: values and the gradients of sum(output) in float64, from
// elementwise_fixtures.json (written by make_elementwise_fixtures.py, which reads the same list).
// The walk over the list makes a row without fixtures fail, naming it.
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "common/fixture_numbers.hpp"
#include "common/test_helpers.hpp"
#include "loom/autograd.hpp"
#include "loom/tensor_ops.hpp"

namespace {

using loom_test::fixture_numbers;

using Fn = std::function<loom::Tensor(const loom::TensorList&)>;

// name → the public op, for every floating row of ops.def.
const std::map<std::string, Fn>& floating_ops() {
  static const std::map<std::string, Fn> ops = {
#define LOOM_OP(family, name, params)
#define LOOM_UNARY_FLOAT(name, cost, element) {#name, [](const loom::TensorList& x) { return loom::name(x[0]); }},
#define LOOM_BINARY_FLOAT(name, cost, element) \
  {#name, [](const loom::TensorList& x) { return loom::name(x[0], x[1]); }},
#include "loom/ops.def"
#undef LOOM_OP
  };
  return ops;
}

// Same value, same non-finite kind, or within the tolerance.
void check_same(const std::string& what, const std::vector<double>& found, const std::vector<double>& expected,
                double rtol) {
  REQUIRE_MESSAGE(found.size() == expected.size(), what);
  for (std::size_t i = 0; i < found.size(); ++i) {
    const double f = found[i], e = expected[i];
    const bool ok = (std::isnan(f) && std::isnan(e)) || f == e ||
                    (std::isfinite(e) && std::abs(f - e) <= rtol * std::max(1.0, std::abs(e)));
    CHECK_MESSAGE(ok, what << "[" << i << "]: Loom " << f << ", PyTorch " << e);
  }
}

const nlohmann::json& fixtures() {
  static const nlohmann::json cases = [] {
    std::ifstream in(LOOM_ELEMENTWISE_FIXTURES);
    REQUIRE_MESSAGE(in.good(), "cannot open " << LOOM_ELEMENTWISE_FIXTURES);
    return nlohmann::json::parse(in)["cases"];
  }();
  return cases;
}

}  // namespace

TEST_CASE("every floating elementwise primitive has PyTorch fixtures") {
  std::string missing;
  for (const auto& [name, fn] : floating_ops())
    if (!fixtures().contains(name)) missing += " " + name;
  CHECK_MESSAGE(missing.empty(), "ops.def rows without fixtures (run tests/ops/make_elementwise_fixtures.py):"
                                     << missing);
}

TEST_CASE("floating elementwise primitives give PyTorch's values and gradients (float64)") {
  for (const auto& [name, fn] : floating_ops()) {
    if (!fixtures().contains(name)) continue;
    CAPTURE(name);
    const nlohmann::json& c = fixtures()[name];
    loom::TensorList inputs;
    for (const auto& values : c["inputs"]) {
      const std::vector<double> v = fixture_numbers(values);
      inputs.push_back(loom::from_vector(v, {static_cast<std::int64_t>(v.size())}).requires_grad_(true));
    }
    const loom::Tensor out = fn(inputs);
    check_same(name + " output", out.to_vector<double>(), fixture_numbers(c["output"]), 1e-12);
    const loom::TensorList grads = loom::autograd::grad({out.sum()}, inputs);
    for (std::size_t i = 0; i < inputs.size(); ++i)
      check_same(name + " gradient of input " + std::to_string(i), grads[i].to_vector<double>(),
                 fixture_numbers(c["grads"][i]), 1e-9);
  }
}
