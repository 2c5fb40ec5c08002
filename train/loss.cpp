#include "train/loss.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

#include "core/error.hpp"

namespace strata {

namespace {

// The shortest text that reads back as the same float ("2.5", "1e+30").
std::string number(float value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc() ? std::string(buffer, end) : std::to_string(value);
}

// Checks that targets[n] are class indices in [0, classes); returns nothing,
// throws an Error naming the first bad example.
void check_class_indices(const Tensor& targets, int64_t classes) {
  const float* t = targets.data();
  for (int64_t n = 0; n < targets.size(); ++n) {
    const float v = t[n];
    if (!(v >= 0 && v < static_cast<float>(classes)) || v != std::floor(v))
      throw Error("CrossEntropy: the target of example " + std::to_string(n) + " is " + number(v) +
                  "; expected a class index, an integer from 0 to " + std::to_string(classes - 1));
  }
}

}  // namespace

LossFunction parse_loss_function(std::string_view name) {
  if (name == "CrossEntropy") return LossFunction::CrossEntropy;
  if (name == "MeanSquared") return LossFunction::MeanSquared;
  throw Error("unknown loss \"" + std::string(name) + "\" (losses: CrossEntropy, MeanSquared)");
}

std::string_view loss_function_name(LossFunction function) {
  switch (function) {
    case LossFunction::CrossEntropy:
      return "CrossEntropy";
    case LossFunction::MeanSquared:
      return "MeanSquared";
  }
  return "?";
}

double cross_entropy_loss(const Tensor& output, const Tensor& targets, ClassScores scores,
                          Tensor* output_grad, int64_t mean_over) {
  if (output.rank() != 2)
    throw Error(
        "CrossEntropy: expected an output of shape [batch, classes] (one score per class), got " +
        to_string(output.shape()));
  const int64_t batch = output.dim(0), classes = output.dim(1);
  if (batch == 0 && mean_over == 0) throw Error("CrossEntropy: the batch is empty");
  if (classes == 0)
    throw Error("CrossEntropy: the output has no classes, shape [" + std::to_string(batch) +
                ", 0]");
  if (targets.rank() != 1 || targets.dim(0) != batch)
    throw Error("CrossEntropy: expected targets of shape [" + std::to_string(batch) +
                "] (one class index per example), got " + to_string(targets.shape()));
  check_class_indices(targets, classes);

  const float* y = output.data();
  const float* t = targets.data();
  float* g = nullptr;
  if (output_grad) {
    output_grad->resize(output.shape());
    g = output_grad->data();
  }
  const double inv_batch = 1.0 / static_cast<double>(mean_over ? mean_over : batch);
  double total = 0;  // summed in example order: the same for any thread count
  if (scores == ClassScores::Logits) {
    for (int64_t n = 0; n < batch; ++n) {
      const float* z = y + n * classes;
      const auto target = static_cast<int64_t>(t[n]);
      // log Σ exp z = m + log Σ exp(z − m) with m = max z: no overflow for
      // large logits, and the largest term is exp(0) = 1, so no underflow to 0.
      float m = z[0];
      for (int64_t k = 1; k < classes; ++k)
        m = std::max(m, z[k]);
      double sum = 0;
      if (g) {
        float* gn = g + n * classes;
        for (int64_t k = 0; k < classes; ++k) {
          gn[k] = std::exp(z[k] - m);
          sum += gn[k];
        }
        // d/dz_k = (softmax_k − [k = target]) / N
        const auto scale = static_cast<float>(inv_batch / sum);
        for (int64_t k = 0; k < classes; ++k)
          gn[k] *= scale;
        gn[target] -= static_cast<float>(inv_batch);
      } else {
        for (int64_t k = 0; k < classes; ++k)
          sum += std::exp(z[k] - m);
      }
      total += static_cast<double>(m) + std::log(sum) - static_cast<double>(z[target]);
    }
  } else {
    for (int64_t n = 0; n < batch; ++n) {
      const auto target = static_cast<int64_t>(t[n]);
      const float p = y[n * classes + target];
      // A gross violation means the output is not probabilities (scores given
      // as probabilities, or a net without SoftmaxLayer). NaN passes through.
      if (p < 0 || p > 1.001f)
        throw Error("CrossEntropy: example " + std::to_string(n) + " has " + number(p) +
                    " for its target class, which is not a probability; a net without a final "
                    "SoftmaxLayer gives scores (logits), not probabilities");
      const double clamped = std::max(p, kMinProbability);
      total -= std::log(clamped);
      if (g) {
        float* gn = g + n * classes;
        std::fill(gn, gn + classes, 0.0f);
        gn[target] = static_cast<float>(-inv_batch / clamped);
      }
    }
  }
  return total * inv_batch;
}

double mean_squared_loss(const Tensor& output, const Tensor& targets, Tensor* output_grad,
                         int64_t mean_over) {
  if (output.rank() == 0)
    throw Error("MeanSquared: expected an output with a batch dimension, got a scalar");
  if (output.dim(0) == 0 && mean_over == 0) throw Error("MeanSquared: the batch is empty");
  // Targets [N] against outputs [N, 1]: the natural shape of one number per example.
  const bool column = output.rank() == 2 && output.dim(1) == 1 && targets.rank() == 1 &&
                      targets.dim(0) == output.dim(0);
  if (targets.shape() != output.shape() && !column)
    throw Error("MeanSquared: expected targets of shape " + to_string(output.shape()) +
                " (the output's shape), got " + to_string(targets.shape()));
  const int64_t count = output.size();
  if (count == 0 && mean_over == 0)
    throw Error("MeanSquared: the output " + to_string(output.shape()) + " has no elements");
  // The mean over mean_over examples of this output's elements per example.
  int64_t per_example = 1;
  for (size_t d = 1; d < output.shape().size(); ++d)
    per_example *= output.dim(d);
  const int64_t divisor = mean_over ? mean_over * per_example : count;
  if (divisor == 0)
    throw Error("MeanSquared: the output " + to_string(output.shape()) + " has no elements");

  const float* y = output.data();
  const float* t = targets.data();
  double total = 0;
  for (int64_t i = 0; i < count; ++i) {
    const double d = static_cast<double>(y[i]) - t[i];
    total += d * d;
  }
  if (output_grad) {
    output_grad->resize(output.shape());
    float* g = output_grad->data();
    const auto scale = static_cast<float>(2.0 / static_cast<double>(divisor));
    for (int64_t i = 0; i < count; ++i)
      g[i] = scale * (y[i] - t[i]);
  }
  return total / static_cast<double>(divisor);
}

double compute_loss(LossFunction function, const Tensor& output, const Tensor& targets,
                    ClassScores scores, Tensor* output_grad, int64_t mean_over) {
  switch (function) {
    case LossFunction::CrossEntropy:
      return cross_entropy_loss(output, targets, scores, output_grad, mean_over);
    case LossFunction::MeanSquared:
      return mean_squared_loss(output, targets, output_grad, mean_over);
  }
  throw Error("compute_loss: invalid LossFunction value");
}

}  // namespace strata
