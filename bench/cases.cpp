#include "cases.hpp"

#include <cstdint>

namespace bench {

std::string CaseSpec::name() const {
  std::string s;
  switch (op) {
    case Op::InstanceNorm:
      s = "InstanceNorm";
      break;
    case Op::BatchNorm:
      s = "BatchNorm";
      break;
    case Op::Convolution:
      s = "Conv" + std::to_string(kernel) + "x" + std::to_string(kernel) + "->" +
          std::to_string(out_channels);
      break;
    case Op::Deconvolution:
      s = "Deconv" + std::to_string(kernel) + "x" + std::to_string(kernel) + "/" +
          std::to_string(stride) + "->" + std::to_string(out_channels);
      break;
    case Op::Linear:
      s = "Linear->" + std::to_string(out_channels);
      break;
    case Op::MaxPool:
      s = "MaxPool2x2";
      break;
    case Op::LocalResponseNorm:
      s = "LRN";
      break;
    case Op::ResizeLinear:
      s = "ResizeLinear2x";
      break;
    case Op::ResizeNearest:
      s = "ResizeNearest2x";
      break;
    case Op::PadReflected:
      s = "PadReflected+" + std::to_string(pad);
      break;
    case Op::DigitsStep:
      s = "DigitsTrainStep";
      break;
  }
  s += pass == Pass::Forward ? " fwd [" : " fwd+bwd [";
  for (size_t i = 0; i < input.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(input[i]);
  }
  return s + "]";
}

int64_t CaseSpec::input_elements() const {
  int64_t n = 1;
  for (int64_t d : input)
    n *= d;
  return n;
}

int64_t CaseSpec::output_elements() const {
  const int64_t n = input_elements();
  switch (op) {
    case Op::ResizeLinear:
    case Op::ResizeNearest:
      return 4 * n;  // 2-D, twice the height and width
    case Op::PadReflected:
      return n / (input[2] * input[3]) * (input[2] + 2 * pad) * (input[3] + 2 * pad);
    default:
      return n;
  }
}

double CaseSpec::bytes() const {
  const double x = 4.0 * static_cast<double>(input_elements());
  const double y = 4.0 * static_cast<double>(output_elements());
  const bool back = pass == Pass::ForwardBackward;
  switch (op) {
    case Op::InstanceNorm:
    case Op::BatchNorm:
    case Op::LocalResponseNorm:
      // Forward reads x, writes y; backward reads x and dy, writes dx.
      return back ? 5 * x : 2 * x;
    case Op::ResizeLinear:
    case Op::ResizeNearest:
    case Op::PadReflected:
      // Forward reads x, writes y; backward reads dy, writes dx.
      return back ? 2 * (x + y) : x + y;
    case Op::MaxPool:
      // 2x2 windows: y and dy are a quarter of x.
      return back ? 2.5 * x : 1.25 * x;
    default:
      return 0;
  }
}

double CaseSpec::flops() const {
  const bool back = pass == Pass::ForwardBackward;
  const double batch = static_cast<double>(input[0]);
  switch (op) {
    case Op::Convolution: {
      double positions = 1;
      for (size_t i = 2; i < input.size(); ++i)
        positions *= static_cast<double>(input[i]);  // stride 1, "same" padding
      const double f = 2 * batch * static_cast<double>(out_channels) *
                       static_cast<double>(input[1] * kernel * kernel) * positions;
      return back ? 3 * f : f;  // backward: one GEMM for dx, one for dWeights
    }
    case Op::Deconvolution: {
      // Each input position meets every kernel tap of every output channel.
      const double f = 2 * static_cast<double>(input_elements() * out_channels * kernel * kernel);
      return back ? 3 * f : f;
    }
    case Op::Linear: {
      const double f = 2 * batch * static_cast<double>(out_channels) *
                       static_cast<double>(input_elements() / input[0]);
      return back ? 3 * f : f;
    }
    default:
      return 0;
  }
}

std::vector<CaseSpec> all_cases() {
  std::vector<CaseSpec> cases;
  for (Pass pass : {Pass::Forward, Pass::ForwardBackward})
    for (std::vector<int64_t> dims : std::vector<std::vector<int64_t>>{
             {8, 64, 64, 64}, {32, 16, 32, 32}, {1, 3, 256, 256}, {64, 8, 8, 8}})
      cases.push_back({Op::InstanceNorm, pass, dims});
  for (int64_t k : {3, 1})
    for (Pass pass : {Pass::Forward, Pass::ForwardBackward})
      cases.push_back({Op::Convolution, pass, {32, 16, 32, 32}, 32, k});
  // The style-transfer net's 3×3 convolutions at 1×3×256×256 (bench/ort): the
  // residual blocks' (16 → 16 channels at 128×128) and the one after the
  // upsampling (16 → 8 at 256×256).
  for (Pass pass : {Pass::Forward, Pass::ForwardBackward}) {
    cases.push_back({Op::Convolution, pass, {1, 16, 128, 128}, 16, 3});
    cases.push_back({Op::Convolution, pass, {1, 16, 256, 256}, 8, 3});
  }
  // Upsampling by 2 (PyTorch's ConvTranspose2d(32, 16, 3, stride=2,
  // padding=1, output_padding=1)), and at stride 1.
  for (int64_t stride : {2, 1})
    for (Pass pass : {Pass::Forward, Pass::ForwardBackward})
      cases.push_back({Op::Deconvolution, pass, {8, 32, 16, 16}, 16, 3, stride});
  for (Pass pass : {Pass::Forward, Pass::ForwardBackward})
    cases.push_back({Op::BatchNorm, pass, {32, 16, 32, 32}});
  for (Pass pass : {Pass::Forward, Pass::ForwardBackward})
    cases.push_back({Op::LocalResponseNorm, pass, {32, 16, 32, 32}});
  for (Op op : {Op::ResizeLinear, Op::ResizeNearest})
    for (Pass pass : {Pass::Forward, Pass::ForwardBackward})
      cases.push_back({op, pass, {32, 16, 16, 16}});
  for (Pass pass : {Pass::Forward, Pass::ForwardBackward})
    cases.push_back({Op::PadReflected, pass, {32, 16, 32, 32}, 0, 0, 1, 2});
  for (Pass pass : {Pass::Forward, Pass::ForwardBackward})
    cases.push_back({Op::MaxPool, pass, {32, 16, 32, 32}});
  for (Pass pass : {Pass::Forward, Pass::ForwardBackward})
    cases.push_back({Op::Linear, pass, {256, 1024}, 512});
  // The main job's step, and the same at twice the batch (cost should grow
  // linearly).
  cases.push_back({Op::DigitsStep, Pass::ForwardBackward, {kDigitsBatch, 1, 8, 8}});
  cases.push_back({Op::DigitsStep, Pass::ForwardBackward, {2 * kDigitsBatch, 1, 8, 8}});
  return cases;
}

std::vector<float> random_values(int64_t count, uint64_t seed, float lo, float hi) {
  // SplitMix64: small, fast, and the same everywhere.
  std::vector<float> v(static_cast<size_t>(count));
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (float& x : v) {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const double u = static_cast<double>(z >> 11) * 0x1.0p-53;
    x = static_cast<float>(lo + (hi - lo) * u);
  }
  return v;
}

}  // namespace bench
