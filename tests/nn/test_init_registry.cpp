// Initialisers by name (loom/nn/init_registry.hpp): each type, with a fixed seed, writes exactly
// what the direct call writes; the listing; unknown types, unknown and wrongly typed options.
#include <algorithm>
#include <cmath>
#include <functional>

#include <nlohmann/json.hpp>

#include "helpers.hpp"
#include "loom/autograd.hpp"
#include "loom/nn/init_registry.hpp"
#include "loom/random.hpp"

namespace init = loom::nn::init;
using loom_nn_test::contains;
using loom_nn_test::message_of;
using nlohmann::json;

namespace {

void check_same(const json& spec, const std::function<void(loom::Tensor)>& direct,
                std::vector<std::int64_t> shape = {64, 32, 3, 3}) {
  INFO("spec: " << spec.dump());
  loom::Tensor a = loom::empty(shape);
  loom::Tensor b = loom::empty(shape);
  loom::manual_seed(1234);
  init::apply(spec, a);
  loom::manual_seed(1234);
  direct(b);
  CHECK(loom::equal(a, b));
}

void check_refused(const std::function<void()>& f, const std::vector<std::string>& parts) {
  const std::string message = message_of<loom::ValueError>(f);
  for (const auto& part : parts) {
    INFO("message: " << message << "\nmissing: " << part);
    CHECK(contains(message, part));
  }
}

}  // namespace

TEST_CASE("initializer_types lists every initialiser") {
  CHECK(init::initializer_types() ==
        std::vector<std::string>{"constant", "kaiming_normal", "kaiming_uniform", "normal", "ones", "orthogonal",
                                 "trunc_normal", "uniform", "xavier_normal", "xavier_uniform", "zeros"});
}

TEST_CASE("each initialiser by name writes what the direct call writes") {
  check_same(json{{"type", "xavier_uniform"}}, [](loom::Tensor t) { init::xavier_uniform_(t); });
  check_same(json{{"type", "xavier_uniform"}, {"gain", 2}}, [](loom::Tensor t) { init::xavier_uniform_(t, 2.0); });
  check_same(json{{"type", "xavier_normal"}, {"gain", 0.5}}, [](loom::Tensor t) { init::xavier_normal_(t, 0.5); });
  check_same(json{{"type", "kaiming_uniform"}}, [](loom::Tensor t) { init::kaiming_uniform_(t); });
  check_same(json{{"type", "kaiming_uniform"}, {"a", 2.23606797749979}},
             [](loom::Tensor t) { init::kaiming_uniform_(t, 2.23606797749979); });
  check_same(json{{"type", "kaiming_normal"}, {"mode", "fan_out"}, {"nonlinearity", "relu"}},
             [](loom::Tensor t) { init::kaiming_normal_(t, 0.0, "fan_out", "relu"); });
  check_same(json{{"type", "kaiming_normal"}, {"nonlinearity", "tanh"}},
             [](loom::Tensor t) { init::kaiming_normal_(t, 0.0, "fan_in", "tanh"); });
  check_same(json{{"type", "orthogonal"}, {"gain", 1.5}}, [](loom::Tensor t) { init::orthogonal_(t, 1.5); }, {40, 25});
  check_same(json{{"type", "normal"}, {"mean", 1}, {"std", 0.02}}, [](loom::Tensor t) { init::normal_(t, 1.0, 0.02); });
  check_same(json{{"type", "normal"}}, [](loom::Tensor t) { init::normal_(t); });
  check_same(json{{"type", "uniform"}, {"low", -3}, {"high", 0.5}},
             [](loom::Tensor t) { init::uniform_(t, -3.0, 0.5); });
  check_same(json{{"type", "constant"}, {"value", 0.25}}, [](loom::Tensor t) { init::constant_(t, 0.25); });
  check_same(json{{"type", "zeros"}}, [](loom::Tensor t) { init::zeros_(t); });
  check_same(json{{"type", "ones"}}, [](loom::Tensor t) { init::ones_(t); });
  check_same(json{{"type", "trunc_normal"}, {"std", 0.02}, {"a", -0.04}, {"b", 0.04}},
             [](loom::Tensor t) { init::trunc_normal_(t, 0.0, 0.02, -0.04, 0.04); });
}

TEST_CASE("initialisers by name have the right statistics") {
  loom::manual_seed(7);
  loom::Tensor t = loom::empty({400, 250});
  init::apply(json{{"type", "constant"}, {"value", 3}}, t);
  CHECK(loom::equal(t, loom::full({400, 250}, 3.0)));
  init::apply(json{{"type", "uniform"}, {"low", 2}, {"high", 4}}, t);
  const auto v = t.to_vector<double>();
  double mean = 0, lo = v[0], hi = v[0];
  for (double e : v) {
    lo = std::min(lo, e);
    hi = std::max(hi, e);
    mean += e;
  }
  CHECK(lo >= 2);
  CHECK(hi <= 4);
  mean /= static_cast<double>(v.size());
  CHECK(std::abs(mean - 3.0) < 5 * (2 / std::sqrt(12.0)) / std::sqrt(1e5));
}

TEST_CASE("initialiser spec errors") {
  loom::Tensor w = loom::empty({8, 4});
  check_refused([&] { init::apply(json{{"type", "he_normal"}}, w); },
                {"unknown type 'he_normal'", "kaiming_normal", "xavier_uniform", "trunc_normal", "zeros"});
  check_refused([&] { init::apply(json{{"gain", 1}}, w); }, {"type"});
  check_refused([&] { init::apply(json{{"type", "xavier_uniform"}, {"gian", 2}}, w); },
                {"xavier_uniform", "unknown option", "gian", "gain"});
  check_refused([&] { init::apply(json{{"type", "zeros"}, {"value", 0}}, w); }, {"zeros", "unknown option", "value"});
  check_refused([&] { init::apply(json{{"type", "xavier_normal"}, {"gain", "high"}}, w); },
                {"xavier_normal", "gain", "a number"});
  check_refused([&] { init::apply(json{{"type", "kaiming_uniform"}, {"mode", "fan_avg"}}, w); },
                {"kaiming_uniform", "mode", "fan_in", "fan_out"});
  check_refused([&] { init::apply(json{{"type", "kaiming_normal"}, {"nonlinearity", "rleu"}}, w); },
                {"kaiming_normal", "nonlinearity", "rleu"});
  check_refused([&] { init::apply(json{{"type", "constant"}}, w); }, {"constant", "value", "required"});
  check_refused([&] { init::apply(json{{"type", "normal"}, {"std", true}}, w); }, {"normal", "std", "a number"});
  // The initialisers' own argument checks still apply.
  check_refused([&] { init::apply(json{{"type", "xavier_uniform"}}, loom::empty({5})); }, {});
}
