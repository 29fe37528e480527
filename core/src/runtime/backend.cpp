// The backend contract's out-of-line parts: the primitive table (names and families, generated from
// loom/ops.def) and the key functions of the abstract classes, so that their typeinfo and vtables
// live in libloom.so.
#include "loom/backend.hpp"

namespace loom {

namespace {
struct OpRow {
  std::string_view name;
  OpFamily family;
};
constexpr OpRow kOpTable[] = {
#define LOOM_OP(family, name, params) {#name, OpFamily::family},
#include "loom/ops.def"
#undef LOOM_OP
};
static_assert(std::size(kOpTable) == kNumOps);
}  // namespace

std::string_view op_name(Op op) { return kOpTable[static_cast<int>(op)].name; }
OpFamily op_family(Op op) { return kOpTable[static_cast<int>(op)].family; }
std::string_view op_family_name(OpFamily family) {
  switch (family) {
#define LOOM_FAMILY(f) case OpFamily::f: return #f;
    LOOM_FAMILY(memory) LOOM_FAMILY(unary) LOOM_FAMILY(binary) LOOM_FAMILY(compare)
    LOOM_FAMILY(ternary) LOOM_FAMILY(reduce) LOOM_FAMILY(matmul) LOOM_FAMILY(convolution)
    LOOM_FAMILY(pooling) LOOM_FAMILY(normalization) LOOM_FAMILY(attention) LOOM_FAMILY(recurrent)
    LOOM_FAMILY(index) LOOM_FAMILY(random)
#undef LOOM_FAMILY
  }
  return "unknown";
}

Allocator::~Allocator() = default;
BackendContext::~BackendContext() = default;
Backend::~Backend() = default;

}  // namespace loom
