#include "onednn_eltwise.hpp"

#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>

#include "onednn_common.hpp"

namespace loom::cpu {
namespace {

dnnl::algorithm eltwise_algorithm(Op op) {
  switch (op) {
    case Op::exp: return dnnl::algorithm::eltwise_exp;
    case Op::tanh: return dnnl::algorithm::eltwise_tanh;
    case Op::sigmoid: return dnnl::algorithm::eltwise_logistic;
    default: return dnnl::algorithm::undef;  // has_onednn_eltwise(op) is false
  }
}

// Sets the calling thread's OpenMP pool to one thread for its lifetime, unless already inside a
// parallel region (where oneDNN runs serially anyway): a oneDNN primitive called outside a region
// forks its own, and the caller has already decided how to split the work.
class SerialOpenMP {
 public:
  SerialOpenMP() : saved_threads_(omp_in_parallel() ? 0 : omp_get_max_threads()) {
    if (saved_threads_ > 1) omp_set_num_threads(1);
  }
  SerialOpenMP(const SerialOpenMP&) = delete;
  SerialOpenMP& operator=(const SerialOpenMP&) = delete;
  ~SerialOpenMP() {
    if (saved_threads_ > 1) omp_set_num_threads(saved_threads_);
  }

 private:
  int saved_threads_;
};

}  // namespace

bool onednn_eltwise(Op op, const float* x, float* y, std::int64_t n) noexcept {
  if (op == Op::exp) {
    bool has_nan = false;
    for (std::int64_t i = 0; i < n; ++i) has_nan |= x[i] != x[i];
    if (has_nan) return false;
  }
  try {
    const SerialOpenMP serial;
    dnnl::engine& engine = onednn_engine();
    // x: (n,), y: (n,). Creating the primitive is a lookup in oneDNN's primitive cache (~0.7 µs)
    // after the first call with this n.
    const dnnl::memory::desc desc({n}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::a);
    const dnnl::eltwise_forward::desc op_desc(dnnl::prop_kind::forward_inference, eltwise_algorithm(op), desc);
    const dnnl::eltwise_forward primitive(dnnl::eltwise_forward::primitive_desc(op_desc, engine));
    dnnl::stream stream(engine);
    dnnl::memory src(desc, engine, const_cast<float*>(x)), dst(desc, engine, y);
    primitive.execute(stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace loom::cpu
