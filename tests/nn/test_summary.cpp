// summary() asks each module for its own stats (Module::stats) and knows no layer type:
// module.cpp and summary.cpp include no concrete layer header; a layer that says nothing shows
// "?" (and so do the receptive fields after it and the total), never 0; a module with children
// that answers is one row; every core layer answers, with the numbers of loom/nn/layer_stats.hpp.
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "common/test_helpers.hpp"
#include "loom/nn.hpp"

namespace {

namespace nn = loom::nn;
using loom::Tensor;
using loom_test::contains;
using nn::SummaryRow;

// The #include lines of a libloom source file.
std::vector<std::string> includes_of(const std::string& file) {
  std::ifstream in(std::string(LOOM_NN_SOURCE_DIR) + "/" + file);
  REQUIRE_MESSAGE(in.good(), "cannot read " << LOOM_NN_SOURCE_DIR << "/" << file);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (line.rfind("#include", 0) == 0) out.push_back(line);
  return out;
}

// A layer that states nothing, as a plugin layer written before Module::stats.
struct Silent : nn::Module {
  Silent() : Module("Silent") {}
  Tensor forward(const Tensor& x) override { return x * 2.0; }
};

// A block with children that states its own numbers: one row, its children inside it.
struct Block : nn::Module {
  std::shared_ptr<nn::Linear> inner;
  Block() : Module("Block") { inner = register_module("inner", std::make_shared<nn::Linear>(4, 4)); }
  Tensor forward(const Tensor& x) override { return (*inner)(x); }
  std::optional<nn::LayerStats> stats(const nn::Shapes&, const nn::Shapes&) const override {
    return nn::LayerStats{.multiply_adds = 1000};
  }
};

// A model with a parameter of its own and no stats: its use of the parameter is unknown.
struct Scaled : nn::Module {
  Tensor scale;
  std::shared_ptr<nn::Linear> fc;
  Scaled() : Module("Scaled") {
    scale = register_parameter("scale", loom::ones({1}));
    fc = register_module("fc", std::make_shared<nn::Linear>(3, 2));
  }
  Tensor forward(const Tensor& x) override { return (*fc)(x) * scale; }
};

// The same model stating its own work only: the multiplication by its parameter.
struct ScaledWithStats : Scaled {
  std::optional<nn::LayerStats> stats(const nn::Shapes&, const nn::Shapes& out) const override {
    return nn::LayerStats{.multiply_adds = out[0].numel(), .includes_children = false};
  }
};

// The example at the top of loom/nn/module.hpp, as written there.
struct Net : loom::nn::Module {
  std::shared_ptr<loom::nn::Linear> fc1, fc2;
  Net() : Module("Net") {
    fc1 = register_module("fc1", std::make_shared<loom::nn::Linear>(784, 256));
    fc2 = register_module("fc2", std::make_shared<loom::nn::Linear>(256, 10));
  }
  // Children through operator(), not forward(), so that their hooks (and summary()) see them.
  loom::Tensor forward(const loom::Tensor& x) override { return (*fc2)(loom::F::relu((*fc1)(x))); }
};

std::vector<std::string> types_of(const nn::ModelSummary& s) {
  std::vector<std::string> out;
  for (const auto& r : s.rows) out.push_back(r.type);
  return out;
}

}  // namespace

TEST_CASE("module.cpp and summary.cpp include no concrete layer header") {
  const std::vector<std::string> allowed = {"loom/nn/module.hpp", "loom/nn/summary.hpp", "loom/nn/layer_stats.hpp"};
  for (const char* file : {"module.cpp", "summary.cpp"}) {
    const auto lines = includes_of(file);
    CHECK_MESSAGE(!lines.empty(), file << " has no #include lines: is LOOM_NN_SOURCE_DIR right?");
    for (const std::string& line : lines) {
      INFO(file << ": " << line);
      if (!contains(line, "loom/nn")) continue;
      bool ok = false;
      for (const auto& a : allowed) ok = ok || contains(line, "\"" + a + "\"");
      CHECK(ok);
    }
  }
}

TEST_CASE("a layer without stats shows ?, and so do the receptive fields after it and the total") {
  nn::Sequential model{std::make_shared<nn::Conv2d>(1, 2, 3), std::make_shared<Silent>(),
                       std::make_shared<nn::Conv2d>(2, 2, 3)};
  const nn::ModelSummary s = nn::summary(model, {1, 8, 8});
  REQUIRE(s.rows.size() == 3);
  CHECK(s.rows[0].receptive_field == 3);
  CHECK(s.rows[0].multiply_adds == 2 * 6 * 6 * 9);
  CHECK(s.rows[1].type == "Silent");
  CHECK(s.rows[1].multiply_adds == SummaryRow::unknown);
  CHECK(s.rows[1].receptive_field == SummaryRow::unknown);
  CHECK(s.rows[2].multiply_adds == 2 * 4 * 4 * 2 * 9);  // its own number is still known
  CHECK(s.rows[2].receptive_field == SummaryRow::unknown);
  CHECK(s.total_multiply_adds == SummaryRow::unknown);
  const std::string table = s.str();
  CHECK(contains(table, "total multiply-adds: ?"));
  std::istringstream lines(table);
  for (std::string line; std::getline(lines, line);)
    if (contains(line, "1 (Silent)")) CHECK(line.substr(line.size() - 2) == " ?");
}

TEST_CASE("a module with children that answers stats is one row; one that does not, or answers for its own work only, shows its children") {
  nn::Sequential model{std::make_shared<Block>(), std::make_shared<nn::ReLU>()};
  const nn::ModelSummary s = nn::summary(model, {4});
  CHECK(types_of(s) == std::vector<std::string>{"Block", "ReLU"});
  CHECK(s.rows[0].name == "0");
  CHECK(s.rows[0].multiply_adds == 1000);
  CHECK(s.rows[0].parameters == 20);  // its child's 4·4 + 4
  CHECK(s.total_multiply_adds == 1000);

  Scaled scaled;
  const nn::ModelSummary t = nn::summary(scaled, {3});
  CHECK(types_of(t) == std::vector<std::string>{"Linear", "Scaled"});
  CHECK(t.rows[1].name == "Scaled");
  CHECK(t.rows[1].parameters == 1);  // its own only: fc has its row
  CHECK(t.rows[1].multiply_adds == SummaryRow::unknown);
  CHECK(t.total_parameters == 9);

  ScaledWithStats own;  // its own row counts its own parameter and work; fc keeps its row
  const nn::ModelSummary u = nn::summary(own, {3});
  CHECK(types_of(u) == std::vector<std::string>{"Linear", "Scaled"});
  CHECK(u.rows[0].multiply_adds == 6);
  CHECK(u.rows[1].parameters == 1);
  CHECK(u.rows[1].multiply_adds == 2);
  CHECK(u.total_multiply_adds == 8);
  CHECK(u.total_parameters == 9);
}

TEST_CASE("the example of loom/nn/module.hpp: children called through operator() are rows") {
  Net net;
  const nn::ModelSummary s = nn::summary(net, {784});
  std::vector<std::string> names;
  for (const auto& r : s.rows) names.push_back(r.name);
  CHECK(names == std::vector<std::string>{"fc1", "fc2"});
  CHECK(s.total_multiply_adds == 784 * 256 + 256 * 10);
  CHECK(s.rows[1].receptive_field == SummaryRow::whole_input);
  CHECK(contains(s.str(), "all"));
}

TEST_CASE("every core layer states its stats") {
  // x: (1, 4, 8, 8) through layers that keep 4 channels, then the features.
  auto seq = std::make_shared<nn::Sequential>();
  seq->push_back(std::make_shared<nn::Conv2d>(
      nn::Conv2dOptions{.in_channels = 4, .out_channels = 4, .kernel_size = {3, 3}, .padding = {1, 1}}));
  seq->push_back(std::make_shared<nn::BatchNorm2d>(4));
  seq->push_back(std::make_shared<nn::GroupNorm>(2, 4));
  seq->push_back(std::make_shared<nn::InstanceNorm2d>(4));
  seq->push_back(std::make_shared<nn::LayerNorm>(nn::LayerNormOptions{.normalized_shape = {8}}));
  for (auto& act : std::vector<std::shared_ptr<nn::Module>>{
           std::make_shared<nn::ReLU>(), std::make_shared<nn::Sigmoid>(), std::make_shared<nn::Tanh>(),
           std::make_shared<nn::SiLU>(), std::make_shared<nn::LeakyReLU>(), std::make_shared<nn::ELU>(),
           std::make_shared<nn::GELU>(), std::make_shared<nn::PReLU>(), std::make_shared<nn::Softmax>(1),
           std::make_shared<nn::LogSoftmax>(1), std::make_shared<nn::Dropout>(), std::make_shared<nn::Dropout2d>(),
           std::make_shared<nn::Identity>()})
    seq->push_back(act);
  seq->push_back(std::make_shared<nn::Upsample>(nn::UpsampleOptions{.scale_factor = {2}}));
  seq->push_back(std::make_shared<nn::MaxPool2d>(2));
  seq->push_back(std::make_shared<nn::AvgPool2d>(2));
  seq->push_back(std::make_shared<nn::ConvTranspose2d>(
      nn::ConvTranspose2dOptions{.in_channels = 4, .out_channels = 4, .kernel_size = {2, 2}, .stride = {2, 2}}));
  seq->push_back(std::make_shared<nn::AdaptiveAvgPool2d>(std::vector<std::int64_t>{4}));
  seq->push_back(std::make_shared<nn::Flatten>(2));  // (1, 4, 16)
  seq->push_back(
      std::make_shared<nn::Conv1d>(nn::Conv1dOptions{.in_channels = 4, .out_channels = 4, .kernel_size = 3}));
  seq->push_back(std::make_shared<nn::Flatten>());  // (1, 56)
  seq->push_back(std::make_shared<nn::Maxout>(56, 8, 3));
  seq->push_back(std::make_shared<nn::Linear>(8, 3));
  const nn::ModelSummary s = nn::summary(*seq, {4, 8, 8});
  for (const auto& r : s.rows) {
    INFO(r.name << " (" << r.type << ")");
    CHECK(r.multiply_adds != SummaryRow::unknown);
    CHECK(r.receptive_field != SummaryRow::unknown);
  }
  CHECK(s.rows.size() == seq->size());  // Maxout is one row, its linear inside
  // Embedding takes int64 indices, not summary()'s float zeros: asked directly.
  CHECK(nn::Embedding(10, 3).stats({{1, 5}}, {{1, 5, 3}})->multiply_adds == 0);
  // Losses say 0 through the same virtual (summary() runs one-input models).
  CHECK(nn::MSELoss().stats({{2}, {2}}, {{}}).has_value());
}

TEST_CASE("the numbers: multiply-adds and receptive-field transfers of the core layers") {
  SUBCASE("Linear counts leading dims and makes the field the whole input") {
    nn::Sequential m{std::make_shared<nn::Conv2d>(1, 1, 3), std::make_shared<nn::Linear>(6, 5)};
    const auto s = nn::summary(m, {1, 8, 8});  // conv (1, 1, 6, 6) → linear (1, 1, 6, 5)
    CHECK(s.rows[1].multiply_adds == 6 * 5 * 6);
    CHECK(s.rows[1].receptive_field == SummaryRow::whole_input);
  }
  SUBCASE("Conv1d, ConvTranspose2d, Maxout") {
    nn::Conv1d c1(nn::Conv1dOptions{.in_channels = 4, .out_channels = 6, .kernel_size = 3, .stride = 2, .groups = 2});
    const auto s1 = nn::summary(c1, {4, 11});  // (1, 6, 5)
    CHECK(s1.rows[0].multiply_adds == 6 * 5 * 2 * 3);
    CHECK(s1.rows[0].receptive_field == 3);
    nn::ConvTranspose2d t(
        nn::ConvTranspose2dOptions{.in_channels = 2, .out_channels = 3, .kernel_size = {3, 3}, .stride = {2, 2}});
    const auto s2 = nn::summary(t, {2, 4, 4});
    CHECK(s2.rows[0].multiply_adds == 2 * 4 * 4 * 3 * 9);
    CHECK(s2.rows[0].receptive_field == 3);
    nn::Maxout mo(5, 2, 3);
    const auto s3 = nn::summary(mo, {5});
    REQUIRE(s3.rows.size() == 1);
    CHECK(s3.rows[0].type == "Maxout");
    CHECK(s3.rows[0].multiply_adds == 2 * 3 * 5);
    CHECK(s3.rows[0].parameters == 5 * 6 + 6);
  }
  SUBCASE("pools move the field, adaptive pooling by its largest bin and step") {
    nn::Sequential m{std::make_shared<nn::MaxPool2d>(2), std::make_shared<nn::AvgPool2d>(3, 1),
                     std::make_shared<nn::AdaptiveAvgPool2d>(std::vector<std::int64_t>{2})};
    const auto s = nn::summary(m, {1, 12, 12});  // (1, 6, 6) → (1, 4, 4) → (1, 2, 2)
    CHECK(s.rows[0].receptive_field == 2);
    CHECK(s.rows[1].receptive_field == 2 + 2 * 2);
    CHECK(s.rows[2].receptive_field == 6 + (2 - 1) * 2);  // bins of 2, step 2, at jump 2
    CHECK(s.total_multiply_adds == 0);
    nn::AdaptiveAvgPool2d uneven(std::vector<std::int64_t>{3});
    // H = 5 into 3 bins: [0, 2), [1, 4), [3, 5): the largest bin 3, the largest step 2.
    const auto k = uneven.stats({{1, 1, 5, 5}}, {{1, 1, 3, 3}})->kernel;
    REQUIRE(k.has_value());
    CHECK(k->size == 3);
    CHECK(k->stride == 2);
    nn::AdaptiveAvgPool2d global(std::vector<std::int64_t>{1});
    CHECK(global.stats({{1, 1, 5, 5}}, {{1, 1, 1, 1}})->mixes_all_positions);
  }
  SUBCASE("recurrent layers: G·hidden·(input + H_out) per step, layer and direction (+ the projection)") {
    nn::LSTM lstm(nn::RecurrentOptions{.input_size = 3, .hidden_size = 4, .num_layers = 2, .batch_first = true,
                                       .bidirectional = true, .proj_size = 2});
    const auto s = nn::summary(lstm, {5, 3});  // x (1, 5, 3): N 1, L 5
    REQUIRE(s.rows.size() == 1);
    CHECK(s.rows[0].multiply_adds == 5 * 2 * (16 * (3 + 2) + 2 * 4 + 16 * (4 + 2) + 2 * 4));
    CHECK(s.rows[0].receptive_field == SummaryRow::whole_input);
    nn::GRU gru(nn::RecurrentOptions{.input_size = 3, .hidden_size = 2});
    CHECK(gru.stats({{7, 4, 3}}, {{7, 4, 2}, {1, 4, 2}})->multiply_adds == 7 * 4 * 6 * (3 + 2));
    nn::RNN unbatched(nn::RecurrentOptions{.input_size = 3, .hidden_size = 2});
    CHECK(unbatched.stats({{7, 3}}, {{7, 2}, {1, 2}})->multiply_adds == 7 * 2 * (3 + 2));
    nn::LSTMCell cell(3, 2);
    const auto c = nn::summary(cell, {3});
    CHECK(c.rows[0].multiply_adds == 8 * (3 + 2));
    CHECK(nn::GRUCell(3, 2).stats({{4, 3}}, {{4, 2}})->multiply_adds == 4 * 6 * 5);
  }
  SUBCASE("Upsample: bilinear reads two pixels, nearest one") {
    nn::Upsample bilinear(nn::UpsampleOptions{.scale_factor = {2}, .mode = loom::F::InterpolateMode::Bilinear});
    CHECK(bilinear.stats({{1, 1, 4, 4}}, {{1, 1, 8, 8}})->kernel->size == 2);
    nn::Upsample nearest(nn::UpsampleOptions{.scale_factor = {2}});
    CHECK(!nearest.stats({{1, 1, 4, 4}}, {{1, 1, 8, 8}})->kernel.has_value());
  }
}
