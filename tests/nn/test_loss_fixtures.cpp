// Every loss against PyTorch 1.13 (loss_fixtures.json, written by make_loss_fixtures.py): each
// case builds the loss from its JSON config through the registry, runs forward(input, target)
// in float64 and compares the output and d(sum of the output)/d(input). The registry walk
// makes a registered loss without a fixture case or a JSON-build row fail.
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "helpers.hpp"
#include "loom/nn/loss.hpp"
#include "loom/nn/registry.hpp"

using loom_nn_test::check_close;
using loom_nn_test::contains;
using loom_nn_test::message_of;
using loom_nn_test::values;

namespace {

const nlohmann::json& fixtures() {
  static const nlohmann::json cases = [] {
    std::ifstream in(LOOM_NN_LOSS_FIXTURES);
    REQUIRE_MESSAGE(in.good(), "cannot open " << LOOM_NN_LOSS_FIXTURES);
    return nlohmann::json::parse(in)["cases"];
  }();
  return cases;
}

loom::Tensor tensor_of(const nlohmann::json& j) {
  const loom::Shape shape(j["shape"].get<std::vector<std::int64_t>>());
  if (j["dtype"] == "int64") return loom::from_vector(j["data"].get<std::vector<std::int64_t>>(), shape);
  return loom::from_vector(j["data"].get<std::vector<double>>(), shape);
}

std::shared_ptr<loom::nn::Loss> build_loss(const std::string& type, const nlohmann::json& config) {
  nlohmann::json spec = config;
  spec["type"] = type;
  auto loss = std::dynamic_pointer_cast<loom::nn::Loss>(loom::nn::build(spec));
  REQUIRE_MESSAGE(loss != nullptr, type << " does not build a loom::nn::Loss");
  return loss;
}

// JSON-build rows: a config with every option of the type, the class it makes and what its
// description must show.
struct BuildRow {
  const char* config;
  const char* type_name;
  const char* repr;
  std::vector<std::string> buffers;
};
const std::map<std::string, BuildRow>& build_rows() {
  static const std::map<std::string, BuildRow> rows = {
      {"mse", {R"({"reduction": "sum"})", "MSELoss", "reduction=sum", {}}},
      {"l1", {R"({"reduction": "none"})", "L1Loss", "reduction=none", {}}},
      {"smooth_l1", {R"({"reduction": "mean", "beta": 0.25})", "SmoothL1Loss", "reduction=mean, beta=0.25", {}}},
      {"huber", {R"({"delta": 2.5})", "HuberLoss", "reduction=mean, delta=2.5", {}}},
      {"bce", {R"({"weight": [1, 2], "reduction": "sum"})", "BCELoss", "reduction=sum, weight=(2,)", {"weight"}}},
      {"bce_with_logits",
       {R"({"weight": [1, 2, 3], "pos_weight": [2, 3, 4]})", "BCEWithLogitsLoss",
        "reduction=mean, weight=(3,), pos_weight=(3,)", {"pos_weight", "weight"}}},
      {"cross_entropy",
       {R"({"weight": [1, 2, 3], "ignore_index": 2, "label_smoothing": 0.1, "reduction": "none"})",
        "CrossEntropyLoss", "reduction=none, weight=(3,), ignore_index=2, label_smoothing=0.1", {"weight"}}},
      {"nll", {R"({"weight": [1, 2], "ignore_index": 0})", "NLLLoss", "reduction=mean, weight=(2,), ignore_index=0",
               {"weight"}}},
      {"multi_margin",
       {R"({"p": 2, "margin": 0.5, "weight": [1, 2, 3, 4]})", "MultiMarginLoss",
        "reduction=mean, p=2, margin=0.5, weight=(4,)", {"weight"}}},
      {"kl_div", {R"({"reduction": "batchmean", "log_target": true})", "KLDivLoss",
                  "reduction=batchmean, log_target=true", {}}},
  };
  return rows;
}

}  // namespace

TEST_CASE("every registered loss has a PyTorch fixture case and a JSON-build row") {
  const std::vector<std::string> registered = loom::nn::module_types(loom::nn::ModuleKind::Loss);
  REQUIRE_MESSAGE(!registered.empty(), "no loss is registered (is register_losses() called by the registry?)");
  std::set<std::string> with_fixture;
  for (const auto& c : fixtures()) with_fixture.insert(c["type"].get<std::string>());
  for (const std::string& type : registered) {
    INFO("registered loss '" << type << "'");
    CHECK_MESSAGE(with_fixture.count(type) == 1, "has no case in loss_fixtures.json (add one to make_loss_fixtures.py)");
    CHECK_MESSAGE(build_rows().count(type) == 1, "has no JSON-build row in test_loss_fixtures.cpp");
  }
  for (const std::string& type : with_fixture) {
    INFO("fixture type '" << type << "'");
    CHECK(loom::nn::has_module_type(type));
  }
  for (const auto& [type, row] : build_rows()) {
    INFO("build row '" << type << "'");
    CHECK(loom::nn::has_module_type(type));
  }
}

TEST_CASE("losses match PyTorch 1.13: outputs and input gradients") {
  for (const auto& c : fixtures()) {
    const std::string name = c["name"];
    SUBCASE(name.c_str()) {
      auto loss = build_loss(c["type"], c["config"]);
      loom::Tensor input = tensor_of(c["input"]).requires_grad_();
      const loom::Tensor target = tensor_of(c["target"]);
      const loom::Tensor out = (*loss)(input, target);
      const loom::Tensor expected = tensor_of(c["output"]);
      CHECK(out.sizes() == expected.sizes());
      CHECK(out.dtype() == loom::DType::Float64);
      check_close(values(out), values(expected), 1e-10, 1e-12);
      out.sum().backward();
      REQUIRE(input.grad().defined());
      CHECK(input.grad().sizes() == input.sizes());
      check_close(values(input.grad()), values(tensor_of(c["grad_input"])), 1e-9, 1e-12);
    }
  }
}

TEST_CASE("the functional form gives what the module built from JSON gives") {
  // One case per family through loom::nn::functional directly, with the fixture's options.
  namespace F = loom::nn::functional;
  for (const auto& c : fixtures()) {
    const std::string name = c["name"];
    const loom::Tensor x = tensor_of(c["input"]), y = tensor_of(c["target"]);
    const std::vector<double> expected = values(tensor_of(c["output"]));
    if (name == "cross_entropy label_smoothing weight ignore mean") {
      const loom::Tensor w = loom::tensor({0.5, 2.0, 1.25, 0.75}, loom::DType::Float64);
      check_close(values(F::cross_entropy(x, y, {.weight = w, .label_smoothing = 0.2})), expected, 1e-10, 1e-12);
    } else if (name == "multi_margin p=2 margin weight none") {
      const loom::Tensor w = loom::tensor({0.5, 2.0, 1.25, 0.75}, loom::DType::Float64);
      check_close(values(F::multi_margin_loss(
                      x, y, {.reduction = loom::nn::Reduction::None, .p = 2, .margin = 1.5, .weight = w})),
                  expected, 1e-10, 1e-12);
    } else if (name == "kl_div batchmean, a zero target") {
      check_close(values(F::kl_div(x, y, loom::nn::Reduction::BatchMean)), expected, 1e-10, 1e-12);
    } else if (name == "mse sum (N,C,d)") {
      check_close(values(F::mse_loss(x, y, loom::nn::Reduction::Sum)), expected, 1e-10, 1e-12);
    }
  }
}

TEST_CASE("losses build from JSON with every option; unknown options and values are errors") {
  for (const auto& [type, row] : build_rows()) {
    SUBCASE(type.c_str()) {
      auto loss = build_loss(type, nlohmann::json::parse(row.config));
      CHECK(loss->type_name() == row.type_name);
      CHECK(loss->extra_repr() == row.repr);
      std::vector<std::string> buffers;
      for (const auto& [name, t] : loss->named_buffers()) buffers.push_back(name);
      std::sort(buffers.begin(), buffers.end());
      CHECK(buffers == row.buffers);
      CHECK(loss->parameters().empty());
      // Unknown options name the type and the option.
      nlohmann::json bad = nlohmann::json::parse(row.config);
      bad["reductoin"] = "sum";
      const std::string message = message_of<loom::ValueError>([&] { build_loss(type, bad); });
      CHECK(contains(message, type));
      CHECK(contains(message, "reductoin"));
    }
  }
  CHECK(contains(message_of<loom::ValueError>([] { build_loss("mse", {{"reduction", "avg"}}); }), "reduction"));
  CHECK(contains(message_of<loom::ValueError>([] { build_loss("cross_entropy", {{"reduction", "batchmean"}}); }),
                 "batchmean"));
  CHECK(contains(message_of<loom::ValueError>([] { build_loss("cross_entropy", {{"weight", {1, "a"}}}); }),
                 "weight"));
  CHECK(contains(message_of<loom::ValueError>([] { build_loss("multi_margin", {{"p", 3}}); }), "p = 1 or 2"));
  CHECK(contains(message_of<loom::ValueError>([] { build_loss("huber", {{"delta", 0}}); }), "delta"));
  CHECK(contains(message_of<loom::ValueError>([] { build_loss("cross_entropy", {{"label_smoothing", 1.5}}); }),
                 "label_smoothing"));
}
