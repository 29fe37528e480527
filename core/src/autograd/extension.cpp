// autograd::Function and the named-kernel registry.
#include <array>
#include <mutex>
#include <unordered_map>

#include "loom/extension.hpp"
#include "autograd/rules.hpp"

namespace loom {
namespace autograd {

void FunctionContext::prepare(const TensorList& inputs) {
  needs_grad_.clear();
  for (const Tensor& t : inputs) needs_grad_.push_back(t.defined() && t.requires_grad());
}

void FunctionContext::seal(const TensorList& outputs, std::string_view name) {
  name_ = name;
  for (const Tensor& t : to_save_) {
    bool is_output = false;
    for (const Tensor& o : outputs) is_output = is_output || (t.defined() && o.defined() && t.same_impl(o));
    saved_.emplace_back(t, is_output);
  }
  to_save_.clear();
}

TensorList FunctionContext::saved() const {
  TensorList out;
  for (const SavedTensor& s : saved_) out.push_back(s.defined() ? s.unpack(name_) : Tensor());
  return out;
}

TensorList apply_function(std::string_view name, const TensorList& inputs, const FunctionForward& forward,
                          FunctionBackward backward) {
  auto ctx = std::make_shared<FunctionContext>();
  ctx->prepare(inputs);
  TensorList outputs;
  {
    NoGradGuard no_grad;
    outputs = forward(*ctx, inputs);
  }
  if (!any_requires_grad(inputs)) {
    ctx->seal(outputs, name);
    return outputs;
  }
  // Outputs that alias an input are given their own handle, so recording does not rewrite the
  // input's history.
  for (Tensor& o : outputs)
    for (const Tensor& in : inputs)
      if (o.defined() && in.defined() && o.same_impl(in)) o = o.detach();
  const std::size_t n_inputs = inputs.size();
  const std::string op(name);
  auto node = std::make_shared<LambdaNode>(
      name, [ctx, backward = std::move(backward), n_inputs, op](const TensorList& grads) -> TensorList {
        TensorList g = backward(*ctx, grads);
        LOOM_CHECK(g.size() == n_inputs, ValueError,
                   "{}: backward returned {} gradients, expected one per input ({})", op, g.size(), n_inputs);
        return g;
      });
  record(node, inputs, outputs);
  ctx->seal(outputs, name);
  return outputs;
}

}  // namespace autograd

namespace {
struct KernelRegistry {
  std::mutex mutex;
  std::unordered_map<std::string, std::array<NamedKernel, kNumDeviceTypes>> kernels;
};
KernelRegistry& kernel_registry() {
  static KernelRegistry* r = new KernelRegistry;  // never destroyed: plugins' kernels live to the end
  return *r;
}
}  // namespace

void register_kernel(std::string_view op, DeviceType device, NamedKernel kernel) {
  LOOM_CHECK(!op.empty() && kernel, ValueError, "register_kernel: expected an op name and a kernel");
  KernelRegistry& r = kernel_registry();
  std::lock_guard lock(r.mutex);
  r.kernels[std::string(op)][static_cast<std::size_t>(device)] = std::move(kernel);
}

bool has_kernel(std::string_view op, DeviceType device) {
  KernelRegistry& r = kernel_registry();
  std::lock_guard lock(r.mutex);
  auto it = r.kernels.find(std::string(op));
  return it != r.kernels.end() && it->second[static_cast<std::size_t>(device)] != nullptr;
}

TensorList call_kernel(std::string_view op, const TensorList& inputs) {
  LOOM_CHECK(!inputs.empty() && inputs[0].defined(), ValueError,
             "call_kernel({}): expected at least one defined input tensor", op);
  const DeviceType device = inputs[0].device().type;
  NamedKernel kernel;
  std::vector<std::string_view> available;
  {
    KernelRegistry& r = kernel_registry();
    std::lock_guard lock(r.mutex);
    auto it = r.kernels.find(std::string(op));
    LOOM_CHECK(it != r.kernels.end(), DeviceError, "call_kernel: no kernel is registered for op '{}'", op);
    kernel = it->second[static_cast<std::size_t>(device)];
    for (int d = 0; d < kNumDeviceTypes; ++d)
      if (it->second[d]) available.push_back(device_type_name(static_cast<DeviceType>(d)));
  }
  LOOM_CHECK(kernel != nullptr, DeviceError, "call_kernel: op '{}' has no kernel for device type '{}' (it has: {})",
             op, device_type_name(device), available);
  return kernel(inputs);
}

}  // namespace loom
