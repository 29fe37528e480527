// Every architecture plugin's types against PyTorch: each row of tests/archs/fixtures/*.json
// (parameter counts of the same configuration built by tests/archs/pytorch/<family>.py) is built
// by name through nn::build and the plugin registry, then
//   - its parameter count equals PyTorch's, and where the row lists them ("names": the torchvision
//     variants), its parameter names in order equal PyTorch's;
//   - forward on a random batch of 2 gives (2, output...) (training mode): a float batch of
//     shape "input", or for token models one int64 batch per shape of "inputs", token ids below
//     "tokens" (their first output);
//   - the gradient of a random projection of the output is finite and non-zero for every
//     parameter tensor;
//   - a second model built with another seed gives another output in eval mode, and the first's
//     output once it has loaded the first's state_dict.
// Rows marked "forward": false are only counted. The registry walk fails for any architecture
// type a loaded plugin registers without a fixture row.
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "fixture_rows.hpp"
#include "loom/autograd.hpp"
#include "loom/nn/module.hpp"
#include "loom/nn/registry.hpp"
#include "loom/plugin.hpp"
#include "loom/random.hpp"
#include "loom/tensor.hpp"
#include "loom/tensor_ops.hpp"

using loom_archs_test::fixture_rows;
using loom_archs_test::FixtureRow;

namespace {

loom::Shape batch_shape(std::int64_t batch, const nlohmann::json& per_sample) {
  loom::Shape s{batch};
  for (const auto& d : per_sample) s.push_back(d.get<std::int64_t>());
  return s;
}

// Σ|g| is finite exactly when every element is, and positive when one is non-zero.
void check_gradients(loom::nn::Module& model) {
  for (const auto& [name, p] : model.named_parameters()) {
    INFO("parameter " << name << " " << p.sizes().str());
    const loom::Tensor g = p.grad();
    REQUIRE(g.defined());
    CHECK(g.sizes() == p.sizes());
    const double total = g.abs().sum().item<double>();
    CHECK(std::isfinite(total));
    CHECK(total > 0);
  }
}

// The row's inputs for a batch of 2: random floats, or random token ids.
loom::TensorList batch_inputs(const nlohmann::json& row) {
  if (!row.contains("inputs")) return {loom::randn(batch_shape(2, row.at("input")))};
  loom::TensorList xs;
  for (const auto& shape : row.at("inputs"))
    xs.push_back(loom::randint(0, row.at("tokens").get<std::int64_t>(), batch_shape(2, shape)));
  return xs;
}

loom::Tensor eval_forward(loom::nn::Module& model, const loom::TensorList& xs) {
  loom::NoGradGuard no_grad;
  model.eval();
  return model(xs).at(0);
}

void check_row(const FixtureRow& f) {
  const nlohmann::json spec = f.spec();
  loom::manual_seed(1);
  auto model = loom::nn::build(spec);
  REQUIRE(model);
  CHECK(model->num_parameters() == f.row.at("parameters").get<std::int64_t>());
  if (f.row.contains("names")) {
    std::vector<std::string> names;
    for (const auto& [name, p] : model->named_parameters()) names.push_back(name);
    CHECK(names == f.row.at("names").get<std::vector<std::string>>());
  }
  if (!f.row.value("forward", true)) return;

  loom::manual_seed(7);
  const loom::TensorList x = batch_inputs(f.row);
  model->train();
  const loom::Tensor y = (*model)(x).at(0);
  REQUIRE(y.sizes() == batch_shape(2, f.row.at("output")));
  (y * loom::randn(y.sizes())).sum().backward();
  check_gradients(*model);

  const loom::Tensor expected = eval_forward(*model, x);
  loom::manual_seed(2);
  auto other = loom::nn::build(spec);
  CHECK_FALSE(loom::allclose(eval_forward(*other, x), expected));
  other->load_state_dict(model->state_dict());
  CHECK(loom::allclose(eval_forward(*other, x), expected, 1e-6, 1e-6));
}

}  // namespace

TEST_CASE("every fixture row: parameters, forward, backward, state_dict round trip") {
  REQUIRE_FALSE(fixture_rows().empty());
  for (const FixtureRow& f : fixture_rows()) {
    INFO(f.file << ": " << f.spec().dump());
    check_row(f);
  }
}

TEST_CASE("every architecture type a plugin registers has a fixture row") {
  loom::load_plugins();
  std::set<std::string> covered;
  for (const FixtureRow& f : fixture_rows()) covered.insert(f.row.at("type").get<std::string>());
  const auto types = loom::nn::module_types(loom::nn::ModuleKind::Architecture);
  // The classification plugins of this suite are built with it: their types must be there.
  for (const char* type : {"lenet5", "alexnet", "vgg11", "vgg13", "vgg16", "resnet", "resnet8", "resnet14",
                           "resnet20", "resnet32", "resnet18", "resnet34", "resnet50", "inception"})
    CHECK_MESSAGE(std::find(types.begin(), types.end(), type) != types.end(), type << " is not registered");
  for (const std::string& type : types)
    CHECK_MESSAGE(covered.count(type) == 1, "architecture '" << type << "' has no row in tests/archs/fixtures/*.json");
}
