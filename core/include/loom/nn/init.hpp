#pragma once
// Parameter initialisation in place, as torch.nn.init: every function takes a handle (a
// member or a view), writes through it under a NoGradGuard, returns the handle, and draws
// from the device's Philox generator, so loom::manual_seed(s) makes it reproducible. Bad arguments are ValueErrors naming the function.
//
// Conventions (COURSE.md): Xavier/Glorot uses fan_avg, Var = gain²·2/(fan_in + fan_out);
// Kaiming uses fan_in by default and gain √2 for ReLU, Var = gain²/fan.
// Fans of a weight (out, in, k1, k2, ...): fan_in = in·k1·k2·..., fan_out = out·k1·k2·...
#include <cstdint>
#include <optional>
#include <string_view>

#include "loom/export.hpp"
#include "loom/tensor.hpp"

namespace loom::nn::init {

struct Fans {
  std::int64_t fan_in = 0;
  std::int64_t fan_out = 0;
};
// As torch.nn.init._calculate_fan_in_and_fan_out: needs a tensor of rank ≥ 2.
LOOM_API Fans calculate_fan_in_and_fan_out(const Tensor& weight);

// torch.nn.init.calculate_gain: linear, conv1d/2d/3d, conv_transpose1d/2d/3d, sigmoid → 1;
// tanh → 5/3; relu → √2; leaky_relu → √(2/(1 + slope²)), slope = param or 0.01; selu → 3/4.
LOOM_API double calculate_gain(std::string_view nonlinearity, std::optional<double> param = std::nullopt);

LOOM_API Tensor uniform_(Tensor t, double low = 0.0, double high = 1.0);
LOOM_API Tensor normal_(Tensor t, double mean = 0.0, double std = 1.0);
LOOM_API Tensor constant_(Tensor t, double value);
LOOM_API Tensor zeros_(Tensor t);
LOOM_API Tensor ones_(Tensor t);
// 2-D: ones on the main diagonal, zeros elsewhere (non-square is fine).
LOOM_API Tensor eye_(Tensor t);

// U(−b, b) with b = gain·√(6/(fan_in + fan_out)).
LOOM_API Tensor xavier_uniform_(Tensor t, double gain = 1.0);
// N(0, σ²) with σ = gain·√(2/(fan_in + fan_out)).
LOOM_API Tensor xavier_normal_(Tensor t, double gain = 1.0);
// U(−b, b) with b = gain·√(3/fan), gain = calculate_gain(nonlinearity, a); mode "fan_in" or
// "fan_out". The defaults are PyTorch's (leaky_relu with a = 0, i.e. gain √2).
LOOM_API Tensor kaiming_uniform_(Tensor t, double a = 0.0, std::string_view mode = "fan_in",
                                  std::string_view nonlinearity = "leaky_relu");
// N(0, σ²) with σ = gain/√fan.
LOOM_API Tensor kaiming_normal_(Tensor t, double a = 0.0, std::string_view mode = "fan_in",
                                 std::string_view nonlinearity = "leaky_relu");
// A (semi-)orthogonal matrix times gain, for the 2-D view (size(0), numel/size(0)): the Q of a
// QR factorisation of a standard normal matrix, signs fixed so R's diagonal is positive
// (Householder QR on the host in double, drawing from the CPU generator: meant for
// initialisation sizes).
LOOM_API Tensor orthogonal_(Tensor t, double gain = 1.0);
// N(mean, std²) truncated to [a, b], by the inverse CDF on the host (CPU generator); any
// interval works, also one far in a tail.
LOOM_API Tensor trunc_normal_(Tensor t, double mean = 0.0, double std = 1.0, double a = -2.0, double b = 2.0);

// ---- the layers' defaults (PyTorch's Linear and Conv) --------------------------------------------
// Weight: kaiming_uniform_(w, a = √5), which is U(−1/√fan_in, 1/√fan_in).
LOOM_API Tensor default_weight_(Tensor weight);
// Bias: U(−1/√fan_in, 1/√fan_in) with the weight's fan_in (zeros when fan_in is 0).
LOOM_API Tensor default_bias_(Tensor bias, std::int64_t fan_in);

}  // namespace loom::nn::init
