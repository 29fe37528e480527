// Adam minimises the 2-D Rosenbrock function from (−1.5, 2) to within 1e-4 of (1, 1).
#include "helpers.hpp"
#include "loom/optim/adam.hpp"

using namespace loom_optim_test;
namespace optim = loom::optim;

TEST_CASE("Adam minimises Rosenbrock in a few thousand steps") {
  auto p = leaf({-1.5, 2.0});
  optim::Adam adam({p}, {.lr = 0.05});
  const auto path = run(adam, p, 3000, rosenbrock);
  const Vec2 end = path.back();
  INFO("Adam ended at (" << end[0] << ", " << end[1] << ")");
  CHECK(std::abs(end[0] - 1) < 1e-4);
  CHECK(std::abs(end[1] - 1) < 1e-4);
  // Halfway it is not there yet: the test measures the optimizer, not the start.
  CHECK(std::abs(path[200][0] - 1) > 1e-2);
}
