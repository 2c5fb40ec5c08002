// The scalar functions of ElementwiseLayer and the loops that apply them.
//
// Each function is a small struct with
//   float value(float x)                 f(x)
//   float derivative(float x, float y)   f'(x), given y = f(x)
// defined inline here so that the loops below, instantiated per function,
// compile to plain loops over contiguous floats (vectorized where the
// function is arithmetic; transcendental ones call libm per element).
//
// Values at kinks, at NaN and at ±inf follow PyTorch (float64 autograd, see
// tests/data/make_elementwise_functions.py):
//   - NaN in gives NaN out for every value(), the clip-like ones included.
//   - Ramp'(0) = 0, Abs'(0) = 0, HardTanh'(±1) = 0, HardSigmoid'(±3) = 0, but
//     Clip' = 1 on the boundary (PyTorch's clamp keeps low ≤ x ≤ high).
//   - Log'(0) = ±inf (1/x), Sqrt'(0) = ±inf (1/(2y)); Log and Sqrt of a negative
//     number, and Power of a negative base with a non-integer exponent, are NaN.
//   - The derivative of a clip-like function at NaN is 0; Ramp's is 1.
//   - Softsign(±inf), Swish(−inf) and Mish(−inf) are NaN (∞/∞, ∞·0), as in
//     PyTorch; Softsign'(±inf) = 0 (PyTorch: NaN).
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>

#include "core/threads.hpp"

namespace strata::elementwise {

// Stable for any x: exp never overflows.
inline float sigmoid(float x) {
  if (x >= 0) return 1.0f / (1.0f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.0f + e);
}

// log(1 + exp(x)) = max(x, 0) + log1p(exp(−|x|)): no overflow for large x,
// full precision for very negative x.
inline float softplus(float x) {
  return (x > 0 ? x : 0.0f) + std::log1p(std::exp(-std::abs(x)));
}

inline constexpr float kInvSqrt2 = static_cast<float>(1.0 / std::numbers::sqrt2);
inline constexpr float kInvSqrt2Pi =
    static_cast<float>(std::numbers::inv_sqrtpi / std::numbers::sqrt2);
inline constexpr float kTwoOverSqrtPi = static_cast<float>(2.0 * std::numbers::inv_sqrtpi);

// Φ(x) = erfc(−x/√2)/2 keeps its relative precision for very negative x,
// where 1 + erf(x/√2) would cancel to 0.
inline float normal_cdf(float x) {
  return 0.5f * std::erfc(-x * kInvSqrt2);
}

// PyTorch's SELU constants (Klambauer et al. 2017).
inline constexpr float kSeluScale = 1.0507009873554804934193349852946f;
inline constexpr float kSeluAlpha = 1.6732632423543772848170429916717f;

struct Ramp {
  // x < 0 rather than x > 0: NaN and −0 pass through, as in PyTorch's relu.
  float value(float x) const { return x < 0 ? 0.0f : x; }
  // PyTorch's threshold_backward: 0 where x ≤ 0, so 1 at NaN.
  float derivative(float x, float) const { return x <= 0 ? 0.0f : 1.0f; }
};

struct Tanh {
  float value(float x) const { return std::tanh(x); }
  float derivative(float, float y) const { return 1.0f - y * y; }
};

struct LogisticSigmoid {
  float value(float x) const { return sigmoid(x); }
  // σ' = σ(x) σ(−x) = e / (1 + e)² with e = exp(−|x|): unlike σ (1 − σ) from
  // the output, this keeps its precision for large positive x.
  float derivative(float x, float) const {
    const float e = std::exp(-std::abs(x));
    return e / ((1.0f + e) * (1.0f + e));
  }
};

struct ELU {
  float value(float x) const { return x > 0 ? x : std::expm1(x); }
  float derivative(float x, float) const { return x > 0 ? 1.0f : std::exp(x); }
};

struct SELU {
  float value(float x) const { return kSeluScale * (x > 0 ? x : kSeluAlpha * std::expm1(x)); }
  float derivative(float x, float) const {
    return x > 0 ? kSeluScale : kSeluScale * kSeluAlpha * std::exp(x);
  }
};

struct GELU {
  float value(float x) const { return x * normal_cdf(x); }
  // d/dx x Φ(x) = Φ(x) + x φ(x).
  float derivative(float x, float) const {
    return normal_cdf(x) + x * kInvSqrt2Pi * std::exp(-0.5f * x * x);
  }
};

struct Softplus {
  float value(float x) const { return softplus(x); }
  float derivative(float x, float) const { return sigmoid(x); }
};

struct LeakyRamp {
  float alpha;
  float value(float x) const { return x > 0 ? x : alpha * x; }
  float derivative(float x, float) const { return x > 0 ? 1.0f : alpha; }
};

struct Abs {
  float value(float x) const { return std::abs(x); }
  // sign(x): 0 at 0 and at NaN, as PyTorch's sgn.
  float derivative(float x, float) const {
    return static_cast<float>(x > 0) - static_cast<float>(x < 0);
  }
};

struct Exp {
  float value(float x) const { return std::exp(x); }
  float derivative(float, float y) const { return y; }
};

struct Log {
  float value(float x) const { return std::log(x); }
  float derivative(float x, float) const { return 1.0f / x; }
};

struct Sqrt {
  float value(float x) const { return std::sqrt(x); }
  // 1 / (2 √x) from the output, as PyTorch: +inf at 0, −inf at −0.
  float derivative(float, float y) const { return 0.5f / y; }
};

struct Square {
  float value(float x) const { return x * x; }
  float derivative(float x, float) const { return 2.0f * x; }
};

struct Sin {
  float value(float x) const { return std::sin(x); }
  float derivative(float x, float) const { return std::cos(x); }
};

struct Cos {
  float value(float x) const { return std::cos(x); }
  float derivative(float x, float) const { return -std::sin(x); }
};

struct Erf {
  float value(float x) const { return std::erf(x); }
  float derivative(float x, float) const { return kTwoOverSqrtPi * std::exp(-x * x); }
};

struct Softsign {
  float value(float x) const { return x / (1.0f + std::abs(x)); }
  float derivative(float x, float) const {
    const float d = 1.0f + std::abs(x);
    return 1.0f / (d * d);
  }
};

// x σ(x), PyTorch's SiLU.
struct Swish {
  float value(float x) const { return x * sigmoid(x); }
  // σ(x) (1 + x σ(−x)), both sigmoids from one exp(−|x|).
  float derivative(float x, float) const {
    const float e = std::exp(-std::abs(x));
    const float big = 1.0f / (1.0f + e), small = e / (1.0f + e);
    const float s = x >= 0 ? big : small, s_neg = x >= 0 ? small : big;
    return s * (1.0f + x * s_neg);
  }
};

// x tanh(softplus(x)).
struct Mish {
  float value(float x) const { return x * std::tanh(softplus(x)); }
  // tanh(sp(x)) + x sech²(sp(x)) σ(x), since sp' = σ.
  float derivative(float x, float) const {
    const float t = std::tanh(softplus(x));
    return t + x * (1.0f - t * t) * sigmoid(x);
  }
};

// The comparisons are written so that NaN falls through to x.
struct HardTanh {
  float value(float x) const { return x < -1.0f ? -1.0f : (x > 1.0f ? 1.0f : x); }
  // PyTorch's hardtanh_backward: 1 strictly inside (−1, 1), 0 on the boundary.
  float derivative(float x, float) const { return x > -1.0f && x < 1.0f ? 1.0f : 0.0f; }
};

// clip((x + 3) / 6, 0, 1) = clip(x / 6 + 1/2, 0, 1), in PyTorch's order of
// operations.
struct HardSigmoid {
  float value(float x) const {
    const float c = x + 3.0f;
    return (c < 0.0f ? 0.0f : (c > 6.0f ? 6.0f : c)) / 6.0f;
  }
  float derivative(float x, float) const { return x > -3.0f && x < 3.0f ? 1.0f / 6.0f : 0.0f; }
};

struct Clip {
  float low, high;
  float value(float x) const { return x < low ? low : (x > high ? high : x); }
  // PyTorch's clamp_backward: 1 on [low, high], boundary included.
  float derivative(float x, float) const { return x >= low && x <= high ? 1.0f : 0.0f; }
};

// x^exponent as std::pow (IEEE: a negative base with a non-integer exponent is
// NaN). For exponents 1, 2 and 1/2 the layer uses Identity, Square and Sqrt.
struct Power {
  float exponent;
  float value(float x) const { return std::pow(x, exponent); }
  // PyTorch's pow_backward: exponent · x^(exponent − 1), and 0 for exponent 0
  // (even at x = 0 or NaN).
  float derivative(float x, float) const {
    return exponent == 0.0f ? 0.0f : exponent * std::pow(x, exponent - 1.0f);
  }
};

struct Identity {
  float value(float x) const { return x; }
  float derivative(float, float) const { return 1.0f; }
};

// Below this many elements, threads cost more than they save.
inline constexpr int64_t kParallelMin = int64_t{1} << 13;

// y[i] = f(x[i]) for i in [0, n). Any thread count gives the same bits.
template <typename F>
void apply(const F& f, const float* x, float* y, int64_t n) {
  parallel_for(
      n, [&](int64_t i) { y[i] = f.value(x[i]); }, kParallelMin);
}

// dx[i] = dy[i] · f'(x[i]), with y = f(x) from the forward pass.
template <typename F>
void apply_derivative(const F& f, const float* x, const float* y, const float* dy, float* dx,
                      int64_t n) {
  parallel_for(
      n, [&](int64_t i) { dx[i] = dy[i] * f.derivative(x[i], y[i]); }, kParallelMin);
}

}  // namespace strata::elementwise
