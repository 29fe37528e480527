#pragma once
// The backend contract: one abstract class with one virtual per primitive (generated from
// loom/ops.def), plus memory, streams, threads and a supports() query. Backends live in
// plugins (libloom-backend-*.so); the core calls them after validating every argument.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "loom/device.hpp"
#include "loom/dtype.hpp"
#include "loom/export.hpp"
#include "loom/philox.hpp"
#include "loom/tensor.hpp"

namespace loom {

// ---- parameters of the convolution and pooling primitives -------------------------------------
// Plain values, [0] for H and [1] for W. Padding is zeros, the same on both sides of a dim.
struct Conv2dParams {
  std::int64_t stride[2] = {1, 1};
  std::int64_t padding[2] = {0, 0};
  std::int64_t dilation[2] = {1, 1};
  std::int64_t groups = 1;
};
struct Pool2dParams {
  std::int64_t kernel[2] = {1, 1};
  std::int64_t stride[2] = {1, 1};
  std::int64_t padding[2] = {0, 0};   // max: −∞ padding; avg: zeros
  std::int64_t dilation[2] = {1, 1};  // max pooling only (avg requires 1)
  bool count_include_pad = true;      // avg pooling: divide by the whole window, padding included
};

// ---- the primitive list ------------------------------------------------------------------------
enum class Op : std::uint16_t {
#define LOOM_OP(family, name, params) name,
#include "loom/ops.def"
#undef LOOM_OP
};
inline constexpr int kNumOps = 0
#define LOOM_OP(family, name, params) +1
#include "loom/ops.def"
#undef LOOM_OP
    ;
enum class OpFamily : std::uint8_t {
  memory, unary, binary, compare, ternary, reduce, matmul, convolution, pooling, normalization, attention,
  recurrent, index, random
};
LOOM_API std::string_view op_name(Op op);
LOOM_API OpFamily op_family(Op op);
LOOM_API std::string_view op_family_name(OpFamily family);

// ---- memory --------------------------------------------------------------------------------------
struct AllocatorStats {
  std::size_t allocated_bytes = 0;    // held by live tensors
  std::size_t reserved_bytes = 0;     // held by the allocator (live + cached)
  std::size_t peak_allocated_bytes = 0;
  std::uint64_t system_allocations = 0;  // calls that went to the OS / driver
  std::uint64_t allocations = 0;         // all calls, cached or not
};

// Owns device memory of one backend. Allocations are 64-byte aligned at least.
class LOOM_API Allocator {
 public:
  virtual ~Allocator();
  virtual void* allocate(std::size_t nbytes) = 0;
  virtual void deallocate(void* ptr, std::size_t nbytes) noexcept = 0;
  virtual AllocatorStats stats() const = 0;
  virtual void empty_cache() {}  // return cached blocks to the OS / driver
};

// What a primitive may hand back for its backward (e.g. a oneDNN workspace or a cuDNN
// descriptor); the autograd node keeps it alive. Backends derive from it.
class LOOM_API BackendContext {
 public:
  virtual ~BackendContext();
};

// ---- the backend ------------------------------------------------------------------------------
class LOOM_API Backend {
 public:
  virtual ~Backend();

  // Identity: the registered name ("cpu", "cpu-reference", "cuda") and the device type served.
  virtual std::string_view name() const = 0;
  virtual DeviceType device_type() const = 0;
  virtual int device_count() const { return 1; }
  // Facts for `loom info`: ("BLAS", "OpenBLAS 0.3.21 (OpenMP)"), ("oneDNN", "2.6.3"), ...
  virtual std::vector<std::pair<std::string, std::string>> info() const { return {}; }

  // Whether `op` has a kernel for `dtype` (the dtype of its main input). The core asks first
  // and, on false, throws a DTypeError naming the op, dtype, device and backend.
  virtual bool supports(Op op, DType dtype) const = 0;

  // Memory and streams. Host copies are synchronous for now; `synchronize` waits for the
  // device's queued work (a no-op on backends that run synchronously).
  virtual Allocator& allocator(int device_index) = 0;
  virtual void copy_from_host(void* dst, const void* src, std::size_t nbytes, int device_index) = 0;
  virtual void copy_to_host(void* dst, const void* src, std::size_t nbytes, int device_index) = 0;
  virtual void synchronize(int device_index) {}

  // Threads of the backend's pool (OpenMP on the CPU).
  virtual void set_num_threads(int n) {}
  virtual int num_threads() const { return 1; }

  // ---- primitives (see loom/ops.def for the contract of each) ----
#define LOOM_OP(family, name, params) virtual void name params = 0;
#include "loom/ops.def"
#undef LOOM_OP
};

// ---- registry (defined once in libloom) -------------------------------------------------------
// The backend that serves a device type; loads plugins on first use. Throws DeviceError naming
// the device, LOOM_PLUGIN_PATH and the folders searched when no plugin provides one.
LOOM_API Backend& backend_for(DeviceType type);
LOOM_API Backend& backend_for(Device device);
// A backend by registered name, e.g. "cpu-reference" (the CPU backend's plain kernels).
LOOM_API Backend& backend_named(std::string_view name);
// Route a device type to another registered backend (LOOM_CPU_BACKEND=cpu-reference does this
// for the CPU at start-up, to run a whole program on the reference kernels).
LOOM_API void set_backend(DeviceType type, std::string_view name);
LOOM_API std::vector<std::string> backend_names();

}  // namespace loom
