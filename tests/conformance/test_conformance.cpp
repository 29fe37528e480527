// The conformance rows, generated from the primitive list: one test case per primitive of
// ops.def, run by its family's harness. Adding a primitive without a spec row or a harness
// fails here.
#include "conformance.hpp"
#include "loom/runtime.hpp"

using namespace conformance;

TEST_SUITE("conformance") {

TEST_CASE("every primitive has a spec row") {
  for (int i = 0; i < loom::kNumOps; ++i) {
    const Op op = static_cast<Op>(i);
    INFO("primitive " << loom::op_name(op) << " (family " << loom::op_family_name(loom::op_family(op))
                      << ") has no row in tests/conformance/op_specs.cpp");
    CHECK(find_spec(op) != nullptr);
  }
}

TEST_CASE("the fast and reference CPU backends are registered") {
  CHECK(fast().name() == "cpu");
  CHECK(reference().name() == "cpu-reference");
  CHECK(fast().device_type() == loom::DeviceType::CPU);
  CHECK(reference().device_type() == loom::DeviceType::CPU);
  CHECK(&fast() != &reference());
}

#define LOOM_OP(family, name, params)                                  \
  TEST_CASE("primitive " #name " (" #family ")") {                     \
    REQUIRE(loom::op_family(Op::name) == loom::OpFamily::family);      \
    SUBCASE("cpu vs cpu-reference vs a plain loop") { run_##family(Op::name); } \
    SUBCASE("empty input through the public API") {                    \
      check_empty_through_public_api(Op::name);                        \
    }                                                                  \
  }
#include "loom/ops.def"
#undef LOOM_OP

}  // TEST_SUITE
