// loom::parse_json, which reads every spec, plan and config: nesting deeper than kMaxJsonDepth is
// an IOError found by a linear scan, before nlohmann::json recurses. `loom summary` on a file of
// 100,000 nested '[' used to overflow the stack (nlohmann::json copies and dumps by recursion),
// and a spec 10,000 modules deep took gigabytes to build.
#include <doctest/doctest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "loom/error.hpp"
#include "loom/json.hpp"
#include "loom/nn/registry.hpp"

namespace {

std::string nested_arrays(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string nested_sequentials(int depth) {
  std::string text;
  for (int i = 0; i < depth; ++i) text += R"({"type": "sequential", "layers": [)";
  text += R"({"type": "relu"})";
  for (int i = 0; i < depth; ++i) text += "]}";
  return text;
}

}  // namespace

TEST_CASE("parse_json: 100,000 nested '[' are an IOError naming the source, not a stack overflow") {
  for (const std::string& text : {nested_arrays(100000), std::string(100000, '[')})
    CHECK_THROWS_WITH_AS(loom::parse_json(text, "deep.json"),
                         doctest::Contains("deep.json: expected JSON nested at most 100 levels deep, found deeper "
                                           "nesting at line 1 (byte 101)"),
                         loom::IOError);
}

TEST_CASE("parse_json: a spec 10,000 modules deep is refused before it is built") {
  CHECK_THROWS_AS(loom::parse_json(nested_sequentials(10000), "deep.json"), loom::IOError);
  // Two JSON levels per module: 49 modules of sequential fit in the limit and build.
  CHECK(loom::nn::build(loom::parse_json(nested_sequentials(49), "ok.json")) != nullptr);
}

TEST_CASE("parse_json: kMaxJsonDepth levels parse; brackets inside strings do not count") {
  CHECK(loom::parse_json(nested_arrays(loom::kMaxJsonDepth), "x").is_array());
  CHECK_THROWS_AS(loom::parse_json(nested_arrays(loom::kMaxJsonDepth + 1), "x"), loom::IOError);
  const std::string brackets(1000, '[');
  const nlohmann::json quoted = loom::parse_json(R"({"name": ")" + brackets + R"(\" {"})", "x");
  CHECK(quoted["name"] == brackets + "\" {");
}

TEST_CASE("parse_json: text that is not JSON is an IOError naming the source") {
  CHECK_THROWS_WITH_AS(loom::parse_json(R"({"type": )", "spec.json"), doctest::Contains("spec.json: expected JSON; "),
                       loom::IOError);
}

TEST_CASE("nn::build: a spec nested deeper than kMaxJsonDepth modules in code is a ValueError") {
  nlohmann::json spec = {{"type", "relu"}};
  for (int i = 0; i < 150; ++i) spec = {{"type", "sequential"}, {"layers", nlohmann::json::array({spec})}};
  CHECK_THROWS_WITH_AS(loom::nn::build(spec), doctest::Contains("expected modules nested at most 100 deep"),
                       loom::ValueError);
}
