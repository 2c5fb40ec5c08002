// The benchmark cases, shared by the strata and the libtorch side: what is
// timed, at which sizes, with which data. Both sides build their inputs from
// the same seeded values, so they time the same computation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

enum class Op {
  InstanceNorm,
  BatchNorm,
  Convolution,
  Deconvolution,
  Linear,
  MaxPool,
  LocalResponseNorm,
  ResizeLinear,
  ResizeNearest,
  PadReflected,
  DigitsStep
};
enum class Pass { Forward, ForwardBackward };

struct CaseSpec {
  Op op;
  Pass pass;
  std::vector<int64_t> input;  // batch first
  int64_t out_channels = 0;    // (De)convolution and Linear: outputs per position / example
  int64_t kernel = 0;          // (De)convolution: a kernel x kernel window (padding kernel / 2)
  // Deconvolution: the stride, with an output padding of stride − 1 (so the
  // output is stride times the input).
  int64_t stride = 1;
  int64_t pad = 0;  // PadReflected: the pad on each side of height and width

  // "InstanceNorm fwd [8,64,64,64]": the case's name in the table; the
  // benchmarks are named "<name>/strata" and "<name>/libtorch".
  std::string name() const;
  int64_t input_elements() const;
  int64_t output_elements() const;
  // Bytes a kernel must at least read and write (normalizations, pooling,
  // resizing, padding), or floating-point operations ((de)convolution,
  // linear); 0 for DigitsStep.
  double bytes() const;
  double flops() const;
};

// The cases, in the order they run.
std::vector<CaseSpec> all_cases();

// `count` values, uniform in [lo, hi), the same for a given seed on both sides.
std::vector<float> random_values(int64_t count, uint64_t seed, float lo = -1, float hi = 1);

// LocalResponseNorm's options in the benchmark (AlexNet's): ChannelWindowSize
// 2 (PyTorch's size 5), Alpha 1e-4, Beta 0.75, Bias 2.
inline constexpr int64_t kLrnWindow = 2;
inline constexpr double kLrnAlpha = 1e-4, kLrnBeta = 0.75, kLrnBias = 2;

// The main job's training of the digits net (examples/digits/train_digits.cpp;
// the net is bench::digits_net()): SGD with learning rate 0.05 falling along
// a cosine over the rounds, momentum 0.9, L2 regularization (PyTorch's
// weight_decay) 0.003, batch 16, 20 rounds, seed 1.
inline constexpr double kDigitsLearningRate = 0.05;
inline constexpr double kDigitsMomentum = 0.9;
inline constexpr double kDigitsL2 = 0.003;
inline constexpr int64_t kDigitsTrainBatch = 16;
inline constexpr int kDigitsRounds = 20;
// The DigitsTrainStep cases: one step of that training (at the first round's
// rate) at batch 64, and at 128.
inline constexpr int64_t kDigitsBatch = 64;

// Registers the strata (always) and libtorch (when built with it) benchmarks
// of a case.
void register_strata(const CaseSpec& c);
void register_libtorch(const CaseSpec& c);
bool have_libtorch();
// The libtorch version, or "" without it.
std::string libtorch_version();
// Sets both sides to `threads` threads (intra-op; libtorch's inter-op too).
void set_libtorch_threads(int threads);

}  // namespace bench
