#pragma once
// What every oneDNN-backed kernel of the CPU backend shares: the engine and a cache of built
// primitives (building a primitive descriptor costs tens of µs; a step calls each shape again
// and again).
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "loom/tensor.hpp"

namespace loom::cpu {

// One engine for the plugin; never destroyed: kernels may still run while static destructors do.
inline dnnl::engine& onednn_engine() {
  static auto* engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

// nhwc when every tensor is dense channels-last, nchw when every one is dense row-major: the
// layouts handed to oneDNN in place.
inline std::optional<dnnl::memory::format_tag> dense_layout(std::initializer_list<const Tensor*> tensors) {
  auto all = [&](MemoryFormat format) {
    return std::all_of(tensors.begin(), tensors.end(), [&](const Tensor* t) { return t->is_contiguous(format); });
  };
  if (all(MemoryFormat::ChannelsLast)) return dnnl::memory::format_tag::nhwc;
  if (all(MemoryFormat::Contiguous)) return dnnl::memory::format_tag::nchw;
  return std::nullopt;
}

// Built plans by key (an array of every size and parameter that fixes the primitive). Two
// threads missing the same key at once both build it; the first stored wins (building under
// the lock would serialise unrelated shapes).
template <typename Key, typename Plan>
class PlanCache {
 public:
  template <typename Build>
  std::shared_ptr<const Plan> get(const Key& key, Build&& build) {
    {
      const std::lock_guard lock(mutex_);
      if (auto it = plans_.find(key); it != plans_.end()) return it->second;
    }
    std::shared_ptr<const Plan> plan = build();
    const std::lock_guard lock(mutex_);
    return plans_.emplace(key, std::move(plan)).first->second;
  }

 private:
  std::mutex mutex_;
  std::map<Key, std::shared_ptr<const Plan>> plans_;
};

}  // namespace loom::cpu
