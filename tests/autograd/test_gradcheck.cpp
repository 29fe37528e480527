// One float64 gradcheck per entry of loom/differentiable.def, generated from the list itself:
// an op added to the list without a row in gradcheck_rows_*.cpp fails its generated case.
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>

#include <doctest/doctest.h>

#include "gradcheck_rows.hpp"
#include "loom/random.hpp"

namespace loom_autograd_test {
namespace {

// Names of every node reachable from the outputs' grad_fns.
std::set<std::string, std::less<>> node_names(const loom::TensorList& outputs) {
  std::set<std::string, std::less<>> names;
  std::unordered_set<const loom::autograd::Node*> seen;
  std::vector<std::shared_ptr<loom::autograd::Node>> stack;
  for (const auto& out : outputs)
    if (out.defined() && out.grad_fn()) stack.push_back(out.grad_fn());
  while (!stack.empty()) {
    auto node = stack.back();
    stack.pop_back();
    if (!seen.insert(node.get()).second) continue;
    names.emplace(node->name());
    for (const auto& edge : node->next_edges)
      if (edge.valid()) stack.push_back(edge.node);
  }
  return names;
}

void run_gradcheck_rows(std::string_view op, bool composite) {
  const auto& table = gradcheck_rows();
  const auto it = table.find(op);
  if (it == table.end() || it->second.empty()) {
    FAIL("op '" << op << "' is listed in loom/differentiable.def but has no gradcheck row; add one to "
                "tests/autograd/gradcheck_rows_*.cpp");
    return;
  }
  for (const GradcheckRow& row : it->second) {
    INFO("gradcheck " << op << ": " << row.variant);
    loom::manual_seed(20240601);
    const loom::TensorList inputs = row.inputs();
    for (const auto& in : inputs) REQUIRE(in.dtype() == f64);
    const auto result = loom::autograd::gradcheck(row.fn, inputs, row.options);
    INFO(result.report);
    CHECK(result.ok);
    if (!composite && row.records_node) {
      const auto names = node_names(row.fn(inputs));
      INFO("nodes in the graph: " << [&] {
        std::string s;
        for (const auto& n : names) s += n + " ";
        return s;
      }());
      CHECK_MESSAGE(names.count(op) == 1, "the graph has no node named '" << op << "'");
    }
  }
}

}  // namespace

#define LOOM_GRAD(name) \
  TEST_CASE("gradcheck " #name) { run_gradcheck_rows(#name, false); }
#define LOOM_GRAD_COMPOSITE(name) \
  TEST_CASE("gradcheck " #name " (composite)") { run_gradcheck_rows(#name, true); }
#include "loom/differentiable.def"

// The list as the header generates it here, in order.
struct ListedOp {
  std::string_view name;
  bool composite;
};
constexpr ListedOp kListedOps[] = {
#define LOOM_GRAD(name) {#name, false},
#define LOOM_GRAD_COMPOSITE(name) {#name, true},
#include "loom/differentiable.def"
};

TEST_CASE("every differentiable op of the library has a gradcheck row, and every row an op") {
  const auto& ops = loom::autograd::differentiable_ops();
  REQUIRE(ops.size() > 0);
  std::set<std::string, std::less<>> library_names;
  for (const auto& op : ops) {
    library_names.emplace(op.name);
    const auto it = gradcheck_rows().find(op.name);
    CHECK_MESSAGE((it != gradcheck_rows().end() && !it->second.empty()),
                  "differentiable op '" << op.name << "' has no gradcheck row");
  }
  CHECK_MESSAGE(library_names.size() == ops.size(), "differentiable_ops() lists a name twice");
  for (const auto& [name, rows] : gradcheck_rows())
    CHECK_MESSAGE(library_names.count(name) == 1, "gradcheck row '" << name << "' names no differentiable op");
}

TEST_CASE("differentiable_ops() is the list in loom/differentiable.def") {
  const auto& ops = loom::autograd::differentiable_ops();
  REQUIRE(ops.size() == std::size(kListedOps));
  for (std::size_t i = 0; i < ops.size(); ++i) {
    INFO("entry " << i << ": " << kListedOps[i].name);
    CHECK(ops[i].name == kListedOps[i].name);
    CHECK(ops[i].composite == kListedOps[i].composite);
  }
}

}  // namespace loom_autograd_test
