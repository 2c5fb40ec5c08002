#include "kernels/local_response.hpp"

#include <cmath>

#include "core/threads.hpp"

namespace strata::kernels {

namespace {

// The work is split in units of (example, block of channels, chunk of
// positions), fixed by the sizes alone: any thread count gives the same bits.
struct Units {
  int64_t blocks, chunks, block;
  int64_t count(int64_t batch) const { return batch * blocks * chunks; }
};

Units units_for(int64_t channels, int64_t n, int64_t radius) {
  const int64_t block = channel_block(radius);
  return {(channels + block - 1) / block, (n + kWindowChunk - 1) / kWindowChunk, block};
}

// Runs body(example, c0, c1, p0, len) for every unit, in parallel.
template <typename Body>
void for_each_unit(int64_t batch, int64_t channels, int64_t n, int64_t radius, Body body) {
  const Units u = units_for(channels, n, radius);
  parallel_for(u.count(batch), [&](int64_t k) {
    const int64_t chunk = k % u.chunks, block = (k / u.chunks) % u.blocks;
    const int64_t e = k / (u.chunks * u.blocks);
    const int64_t c0 = block * u.block, p0 = chunk * kWindowChunk;
    body(e, c0, std::min(channels, c0 + u.block), p0, std::min(kWindowChunk, n - p0));
  });
}

// B^Beta, with the common exponents as square roots (which vectorize).
template <typename Power>
void forward_with(const float* x, int64_t batch, int64_t channels, int64_t n,
                  const LocalResponseParams& params, float* y, float* base, float* denom,
                  Power power) {
  const double scale = params.alpha / static_cast<double>(2 * params.radius + 1);
  const double bias = params.bias;
  for_each_unit(batch, channels, n, params.radius,
                [&](int64_t e, int64_t c0, int64_t c1, int64_t p0, int64_t len) {
                  const float* xe = x + e * channels * n;
                  auto square = [xe, n](int64_t c, int64_t p) {
                    const double v = xe[c * n + p];
                    return v * v;
                  };
                  sliding_channel_sums(
                      channels, params.radius, c0, c1, p0, len, square,
                      [&](int64_t c, const double* sum) {
                        const int64_t at = (e * channels + c) * n + p0;
                        const float* __restrict xa = x + at;
                        float* __restrict ya = y + at;
                        if (!base) {
                          for (int64_t i = 0; i < len; ++i)
                            ya[i] = static_cast<float>(xa[i] / power(bias + scale * sum[i]));
                          return;
                        }
                        float* __restrict ba = base + at;
                        float* __restrict da = denom + at;
                        for (int64_t i = 0; i < len; ++i) {
                          const double b = bias + scale * sum[i];
                          const double d = power(b);
                          ya[i] = static_cast<float>(xa[i] / d);
                          ba[i] = static_cast<float>(b);
                          da[i] = static_cast<float>(d);
                        }
                      });
                });
}

}  // namespace

void local_response_forward(const float* x, int64_t batch, int64_t channels, int64_t n,
                            const LocalResponseParams& params, float* y, float* base,
                            float* denom) {
  const double beta = params.beta;
  if (beta == 0.5)
    forward_with(x, batch, channels, n, params, y, base, denom,
                 [](double b) { return std::sqrt(b); });
  else if (beta == 0.75)
    forward_with(x, batch, channels, n, params, y, base, denom, [](double b) {
      const double r = std::sqrt(b);
      return r * std::sqrt(r);
    });
  else if (beta == 1)
    forward_with(x, batch, channels, n, params, y, base, denom, [](double b) { return b; });
  else
    forward_with(x, batch, channels, n, params, y, base, denom,
                 [beta](double b) { return std::pow(b, beta); });
}

void local_response_backward(const float* x, const float* dy, const float* base, const float* denom,
                             int64_t batch, int64_t channels, int64_t n,
                             const LocalResponseParams& params, float* dx) {
  const double coef = 2 * params.alpha * params.beta / static_cast<double>(2 * params.radius + 1);
  for_each_unit(
      batch, channels, n, params.radius,
      [&](int64_t e, int64_t c0, int64_t c1, int64_t p0, int64_t len) {
        const int64_t off = e * channels * n;
        const float *xe = x + off, *ge = dy + off, *be = base + off, *de = denom + off;
        auto term = [=](int64_t c, int64_t p) {
          const int64_t i = c * n + p;
          return static_cast<double>(ge[i]) * xe[i] / (static_cast<double>(de[i]) * be[i]);
        };
        sliding_channel_sums(
            channels, params.radius, c0, c1, p0, len, term, [&](int64_t c, const double* sum) {
              const int64_t at = c * n + p0;
              float* dxe = dx + off + at;
              for (int64_t i = 0; i < len; ++i)
                dxe[i] = static_cast<float>(static_cast<double>(ge[at + i]) / de[at + i] -
                                            coef * xe[at + i] * sum[i]);
            });
      });
}

}  // namespace strata::kernels
