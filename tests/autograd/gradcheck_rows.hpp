#pragma once
// The gradcheck table: for every op of loom/differentiable.def, float64 inputs and a call of
// the op. test_gradcheck.cpp generates one test case per .def entry and looks its rows up here.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "leaves.hpp"
#include "loom/autograd.hpp"

namespace loom_autograd_test {

struct GradcheckRow {
  std::string variant;                        // what the row exercises, printed on failure
  std::function<loom::TensorList()> inputs;   // fresh float64 inputs (a new set per run)
  loom::autograd::DifferentiableFn fn;        // calls the op (views of inputs are made here)
  loom::autograd::GradcheckOptions options{};
  // For an op with its own rule (LOOM_GRAD): its node, named after it, is in the graph.
  // False where the op returns its input itself (e.g. cpu → cpu), which records nothing.
  bool records_node = true;
};

// Rows by op name (several variants per op).
const std::map<std::string, std::vector<GradcheckRow>, std::less<>>& gradcheck_rows();

}  // namespace loom_autograd_test
