// Builds an InstanceNormalizationLayer, gives it arrays and applies it to a
// small batch, printing each channel's mean and standard deviation before and
// after.
#include <cmath>
#include <cstdio>

#include "strata.hpp"

int main() {
  using namespace strata;
  InstanceNormalizationLayer norm;
  norm.epsilon(1e-5);
  norm.constrain_input(0, Shape{2, 8, 8});  // one example: 2 channels of 8x8
  norm.set_array("Gamma", Tensor({2}, std::vector<float>{1.0f, 2.0f}));
  norm.set_array("Beta", Tensor({2}, std::vector<float>{0.0f, 5.0f}));

  Rng rng(1);
  Tensor x({4, 2, 8, 8});  // a batch of 4 examples, 2 channels of 8x8
  for (float& v : x.values())
    v = static_cast<float>(3.0 + 10.0 * rng.normal());
  Tensor y = norm(x);

  auto stats = [](const Tensor& t, int64_t example, int64_t channel) {
    const int64_t n = 64;
    const float* p = t.data() + (example * 2 + channel) * n;
    double m = 0, v = 0;
    for (int64_t i = 0; i < n; ++i)
      m += p[i];
    m /= n;
    for (int64_t i = 0; i < n; ++i)
      v += (p[i] - m) * (p[i] - m);
    return std::pair{m, std::sqrt(v / n)};
  };
  std::printf("example channel   mean in  std in  ->  mean out  std out\n");
  for (int64_t e = 0; e < 4; ++e)
    for (int64_t c = 0; c < 2; ++c) {
      auto [mi, si] = stats(x, e, c);
      auto [mo, so] = stats(y, e, c);
      std::printf("%7lld %7lld  %8.3f %7.3f  ->  %8.3f %8.3f\n", static_cast<long long>(e),
                  static_cast<long long>(c), mi, si, mo, so);
    }
  return 0;
}
