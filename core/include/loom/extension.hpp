#pragma once
// Extending Loom without touching the primitive list:
//
// 1. autograd::Function — a differentiable op with a user forward and backward, like
//    torch.autograd.Function:
//
// ```cpp
// #include "loom/extension.hpp"
// #include "loom/tensor_ops.hpp"
//
// struct Square : loom::autograd::Function<Square> {
//   static constexpr std::string_view name = "Square";
//   static loom::TensorList forward(loom::autograd::FunctionContext& ctx, const loom::TensorList& in) {
//     ctx.save_for_backward({in[0]});
//     return {in[0] * in[0]};
//   }
//   static loom::TensorList backward(loom::autograd::FunctionContext& ctx, const loom::TensorList& grad) {
//     return {grad[0] * 2 * ctx.saved()[0]};
//   }
// };
// loom::Tensor x = loom::ones({3}).requires_grad_();
// loom::Tensor y = Square::apply({x})[0];
// ```
//
//    forward runs without recording; backward is written with Loom ops, so it is itself
//    differentiable under create_graph.
//
// 2. Kernels registered by name per device type, so a plugin can ship the compute of a new op
//    for each device it supports: register_kernel("se_scale", DeviceType::CPU, fn), then
//    call_kernel("se_scale", inputs) picks the kernel for inputs[0]'s device.
#include <any>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "loom/autograd.hpp"

namespace loom {
namespace autograd {

class LOOM_API FunctionContext {
 public:
  // Tensors the backward needs (inputs or outputs); checked against in-place changes.
  void save_for_backward(const TensorList& tensors) { to_save_ = tensors; }
  TensorList saved() const;
  // Whether input i requires a gradient (backward may return undefined for the others).
  bool needs_input_grad(std::size_t i) const { return i < needs_grad_.size() && needs_grad_[i]; }
  // Anything else the backward needs (sizes, flags, scalars).
  std::map<std::string, std::any> data;

  // Used by Function<>::apply.
  void prepare(const TensorList& inputs);
  void seal(const TensorList& outputs, std::string_view name);

 private:
  TensorList to_save_;
  std::vector<SavedTensor> saved_;
  std::vector<bool> needs_grad_;
  std::string name_;
};

using FunctionForward = std::function<TensorList(FunctionContext&, const TensorList&)>;
using FunctionBackward = std::function<TensorList(FunctionContext&, const TensorList&)>;
LOOM_API TensorList apply_function(std::string_view name, const TensorList& inputs,
                                   const FunctionForward& forward, FunctionBackward backward);

template <class Derived>
struct Function {
  static TensorList apply(const TensorList& inputs) {
    std::string_view name = "CustomFunction";
    if constexpr (requires { Derived::name; }) name = Derived::name;
    return apply_function(name, inputs, &Derived::forward, &Derived::backward);
  }
};

}  // namespace autograd

// ---- kernels by name --------------------------------------------------------------------------------
using NamedKernel = std::function<TensorList(const TensorList& inputs)>;
// Registers (or replaces) the kernel of `op` for a device type. Thread-safe.
LOOM_API void register_kernel(std::string_view op, DeviceType device, NamedKernel kernel);
LOOM_API bool has_kernel(std::string_view op, DeviceType device);
// Runs the kernel for inputs[0]'s device; DeviceError naming the op, the device and the
// devices that have a kernel when there is none.
LOOM_API TensorList call_kernel(std::string_view op, const TensorList& inputs);

}  // namespace loom
