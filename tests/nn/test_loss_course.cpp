// COURSE.md worked examples 4, 5 and 14 through the public API. A number printed there with k
// decimals is met within half a unit of its last digit; an integer within 1e-6.
#include <cmath>

#include "helpers.hpp"
#include "loom/nn/functional/loss.hpp"
#include "loom/nn/init.hpp"
#include "loom/nn/loss.hpp"
#include "loom/random.hpp"

namespace {

// Tolerance of a number printed with `decimals` decimals (0: an integer).
double course_tolerance(int decimals) { return decimals == 0 ? 1e-6 : 0.5 * std::pow(10.0, -decimals); }

void check_course(const std::vector<double>& found, const std::vector<double>& expected,
                  const std::vector<int>& decimals) {
  REQUIRE(found.size() == expected.size());
  for (std::size_t i = 0; i < found.size(); ++i) {
    INFO("element " << i << ": found " << found[i] << ", course " << expected[i]);
    CHECK(std::abs(found[i] - expected[i]) <= course_tolerance(decimals[i]));
  }
}

// Scores of examples 4 and 5: three samples, three classes; labels 0, 1, 2.
loom::Tensor scores() { return loom::tensor({{3.2, 5.1, -1.7}, {1.3, 4.9, 2.0}, {2.2, 2.5, -3.1}}); }
loom::Tensor labels() { return loom::tensor({0, 1, 2}); }

}  // namespace

TEST_CASE("course example 4: softmax cross-entropy table") {
  loom::nn::CrossEntropyLoss per_sample({.reduction = loom::nn::Reduction::None});
  check_course(loom_nn_test::values(per_sample(scores(), labels())), {2.0404, 0.0791, 6.1565}, {4, 4, 4});
  loom::nn::CrossEntropyLoss mean;  // the default reduction
  check_course(loom_nn_test::values(mean(scores(), labels())), {2.7587}, {4});
}

TEST_CASE("course example 5: multiclass hinge, PyTorch's /C form and the course's sum form") {
  loom::nn::MultiMarginLoss per_sample({.reduction = loom::nn::Reduction::None});  // margin 1, p 1
  const loom::Tensor losses = per_sample(scores(), labels());
  check_course(loom_nn_test::values(losses), {0.9667, 0, 4.3}, {4, 0, 1});
  // The course's tables sum over j ≠ y without dividing by C = 3.
  check_course(loom_nn_test::values(losses * 3.0), {2.9, 0, 12.9}, {1, 0, 1});
  loom::nn::MultiMarginLoss mean;
  check_course(loom_nn_test::values(mean(scores(), labels()) * 3.0), {5.2667}, {4});
}

TEST_CASE("course example 14: an untrained classifier with a small last layer starts at ln C") {
  loom::manual_seed(14);
  const std::int64_t classes = 10;
  const loom::Tensor features = loom::randn({256, 64});
  loom::Tensor weight = loom::empty({classes, 64});
  loom::nn::init::normal_(weight, 0.0, 1e-4);  // "initialised small"
  const loom::Tensor logits = loom::matmul(features, weight.t());
  const loom::Tensor targets = loom::randint(0, classes, {256});
  check_course(loom_nn_test::values(loom::nn::functional::cross_entropy(logits, targets)), {2.3026}, {4});
}
