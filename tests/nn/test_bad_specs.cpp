// The bad-spec table (issue 15, defects 2 and 10, and the bad-input table): each row is a JSON
// model spec that nn::build must refuse, with the error type and a phrase of the message.
#include <cstdint>
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "loom/nn.hpp"

namespace {

struct BadSpec {
  const char* spec;
  const char* type;  // loom::error_type_name
  const char* phrase;
};

const BadSpec kRows[] = {
    {R"({"type": "linear", "in_features": 18446744073709551615, "out_features": 2})", "ValueError",
     "option 'in_features' must be an integer below 2^63, found 18446744073709551615"},
    {R"({"type": "linear", "in_features": 4611686018427387904, "out_features": 1})", "ValueError",
     "is too large: its size in bytes does not fit in 64 bits"},
    {R"({"type": "linear", "in_features": 1099511627776, "out_features": 1099511627776})", "ValueError",
     "(1099511627776, 1099511627776) is too large"},
    {R"({"type": "linear", "in_features": 2.7, "out_features": 2})", "ValueError",
     "option 'in_features' must be an integer below 2^63, found 2.7"},
    {R"({"type": "linear", "in_features": "3", "out_features": 2})", "ValueError",
     "option 'in_features' must be an integer below 2^63, found \"3\""},
    {R"({"type": "linear", "in_features": 3, "out_features": 2, "bias": 1})", "ValueError",
     "option 'bias' must be true or false, found 1"},
    {R"({"type": "linear", "in_features": 3, "out_features": 2, "bais": true})", "ValueError", "unknown option 'bais'"},
    {R"({"type": "linera", "in_features": 3, "out_features": 2})", "ValueError", "linera"},
    {R"({"in_features": 3})", "ValueError", "type"},
    {R"([1, 2])", "ValueError", "[1,2]"},
    {R"({"type": "conv2d", "in_channels": 1, "out_channels": 2, "kernel_size": [3]})", "ValueError",
     "option 'kernel_size' needs 2 values, found 1"},
    {R"({"type": "conv2d", "in_channels": 1, "out_channels": 2, "kernel_size": [3, 18446744073709551615]})",
     "ValueError", "option 'kernel_size' must be a list of integers below 2^63"},
    {R"({"type": "sequential", "layers": {"type": "relu"}})", "ValueError", "layers"},
    {R"({"type": "sequential", "layers": [{"type": "relu"}, {"type": "linear", "in_features": -3, "out_features": 2}]})",
     "ValueError", "in_features"},
};

}  // namespace

TEST_CASE("every bad spec of the table is refused with its error type and message") {
  for (const BadSpec& row : kRows) {
    std::string type = "(no error)", message;
    try {
      (void)loom::nn::build(nlohmann::json::parse(row.spec));
    } catch (const std::exception& e) {
      type = loom::error_type_name(e);
      message = e.what();
    }
    INFO("spec: " << std::string(row.spec));
    INFO("error: " << type << ": " << message);
    CHECK(type == row.type);
    CHECK(message.find(row.phrase) != std::string::npos);
  }
}

TEST_CASE("a summary input too large is a ValueError naming the shape, not a segfault") {
  auto model = loom::nn::build(nlohmann::json::parse(R"({"type": "linear", "in_features": 3, "out_features": 2})"));
  std::string message;
  try {
    loom::nn::summary(*model, {std::int64_t{1} << 62});
  } catch (const loom::ValueError& e) {
    message = e.what();
  }
  CHECK(message.find("(1, 4611686018427387904)") != std::string::npos);
}
