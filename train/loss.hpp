// Loss functions for training: the scalar a batch of net outputs is scored
// by, and its gradient with respect to those outputs (what NetTrain feeds to
// the net's backward pass).
//
// CrossEntropy: targets are class indices, a float tensor [N] of integral
// values in [0, K); the output is [N, K], either probabilities (a net ending
// in SoftmaxLayer) or logits (the spec's "scores": softmax is applied inside,
// stably, by log-sum-exp). The loss is the mean over the batch of −log
// p[target], as PyTorch's F.cross_entropy(logits, t) and
// F.nll_loss(log(p), t).
//
// MeanSquared: the mean over all elements of the batch of (y − t)², as
// F.mse_loss; the targets have the output's shape (or [N] against [N, 1]).
#pragma once

#include <limits>
#include <string_view>

#include "core/tensor.hpp"

namespace strata {

enum class LossFunction { CrossEntropy, MeanSquared };

// "CrossEntropy" or "MeanSquared"; any other name is an Error listing them.
LossFunction parse_loss_function(std::string_view name);
std::string_view loss_function_name(LossFunction function);

// What a net's output holds, for CrossEntropy.
enum class ClassScores {
  Probabilities,  // each row sums to 1 (the net ends in SoftmaxLayer)
  Logits,         // unnormalized log-probabilities (no SoftmaxLayer)
};

// Probabilities below this (the smallest normal float) are taken as this in
// −log p and its gradient, so that a confidently wrong net gives a finite
// loss (at most −log(FLT_MIN) ≈ 87.34 per example) and a finite gradient
// (−1/(N·p) stays below FLT_MAX). Above it the loss is exactly −log p, as
// PyTorch's nll_loss(log(p)), which would give inf instead.
inline constexpr float kMinProbability = std::numeric_limits<float>::min();

// Each function returns the loss of the batch (the batch is the leading
// dimension of `output`) and, when `output_grad` is not null, writes the
// gradient of that loss with respect to `output` into it (resized to the
// output's shape; nothing else is allocated). Shape mismatches, an empty
// batch, and class indices that are out of range or not integral are Errors
// naming the loss and, for a bad index, the example.
//
// `mean_over`, when not 0, is the number of examples the mean is taken over
// instead of this batch's: in data-parallel training a shard of a global
// batch of `mean_over` examples then gives its part of the global loss and
// gradient (the parts add up to them), and may be empty.
double cross_entropy_loss(const Tensor& output, const Tensor& targets, ClassScores scores,
                          Tensor* output_grad, int64_t mean_over = 0);
double mean_squared_loss(const Tensor& output, const Tensor& targets, Tensor* output_grad,
                         int64_t mean_over = 0);

// Either of the above; `scores` is used by CrossEntropy only.
double compute_loss(LossFunction function, const Tensor& output, const Tensor& targets,
                    ClassScores scores, Tensor* output_grad, int64_t mean_over = 0);

}  // namespace strata
