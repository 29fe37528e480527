// The "cpu" plugin's entry: registers the fast backend "cpu" and the reference backend
// "cpu-reference" for DeviceType::CPU.
#include <memory>

#include "allocator.hpp"
#include "backend.hpp"
#include "loom/api_version.hpp"
#include "loom/plugin.hpp"

namespace {

// One allocator for both backends: a tensor made through one may be freed through the other.
// It is never destroyed, so that tensors which outlive main (a program's statics) can still
// free into it; the plugin itself is never unloaded.
loom::cpu::CpuAllocator& shared_allocator() {
  static auto* allocator = new loom::cpu::CpuAllocator();
  return *allocator;
}

void register_cpu_backends(loom::PluginRegistrar& registrar) {
  registrar.add_backend("cpu", loom::DeviceType::CPU,
                        [] { return std::make_unique<loom::cpu::CpuBackend>(shared_allocator()); });
  registrar.add_backend("cpu-reference", loom::DeviceType::CPU,
                        [] { return std::make_unique<loom::cpu::CpuReferenceBackend>(shared_allocator()); });
}

}  // namespace

LOOM_PLUGIN("cpu", loom::PluginKind::Backend, LOOM_VERSION_STRING, register_cpu_backends, "cpu", "cpu-reference")
