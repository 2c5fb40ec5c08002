// Optimizers: update a net's trainable arrays from the gradients of the loss,
// keeping per-array state (momentum, moment estimates) between steps. SGD and
// ADAM compute exactly what torch.optim.SGD and torch.optim.Adam compute.
//
//   SGD sgd(0.1);
//   sgd.momentum(0.9).l2_regularization(1e-4).gradient_clipping(5);
//   for (...) { /* forward, loss, backward */ sgd.step(parameters, gradients); }
//
// Gradient clipping (option GradientClipping, c > 0; 0 means none): before
// the update, all gradients together are scaled as one vector to a global L2
// norm of at most c, as torch.nn.utils.clip_grad_norm_(parameters, c) does:
// with n = ‖(∇1, ∇2, …)‖₂, each ∇ is multiplied by min(1, c / (n + 1e-6)).
// (Unlike PyTorch, the gradient tensors themselves are left unchanged: the
// factor is applied inside the update.)
// L2 regularization is added to the clipped gradient (as PyTorch's
// weight_decay is, inside the optimizer step, after clipping).
//
// Option keys are Wolfram's (Method -> {"SGD", "Momentum" -> 0.9, ...}); the
// C++ setters are the same words in snake_case.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/tensor.hpp"

namespace strata {

// What an optimizer carries from step to step, for checkpoints. `tensors` are
// named "<parameter index>.<buffer>", e.g. "0.Velocity" (SGD with momentum)
// or "3.FirstMoment" and "3.SecondMoment" (ADAM), in parameter order.
struct OptimizerState {
  std::string method;  // "SGD" or "ADAM"
  int64_t steps = 0;   // updates made so far
  std::vector<std::pair<std::string, Tensor>> tensors;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;

  // "SGD" or "ADAM".
  virtual std::string method() const = 0;

  // Updates each parameter in place from the gradient of the loss at the same
  // position (same shape). The state is kept per position, so every step must
  // pass the same parameters in the same order; a different count or shape
  // is an Error. Nothing is changed when an Error is thrown.
  // `rate_multipliers`, one per parameter (or empty: all 1), scale the
  // learning rate of each parameter (Wolfram's LearningRateMultipliers): the
  // step of parameter i is that of learning rate η·r_i. Each must be ≥ 0.
  void step(std::span<Tensor* const> parameters, std::span<const Tensor* const> gradients,
            std::span<const float> rate_multipliers = {});

  // The number of steps made (restored by set_state).
  int64_t steps() const { return steps_; }

  // The learning rate of the next step; may change between steps (schedules).
  double learning_rate() const { return learning_rate_; }
  void set_learning_rate(double rate);

  // The global gradient-norm bound; 0 is none.
  double gradient_clipping() const { return gradient_clipping_; }
  void set_gradient_clipping(double max_norm);

  // Every option as JSON, keyed by its Wolfram name.
  virtual nlohmann::json options() const = 0;
  // Throws an Error naming the key for an unknown option or a bad value.
  virtual void set_option(const std::string& key, const nlohmann::json& value) = 0;

  // The state (a copy), and restoring it: a restored optimizer continues
  // exactly as the one the state was taken from, given the same options.
  // set_state checks the method, the names, that each parameter's buffers
  // agree in shape, and (at the next step) that the parameters match them.
  OptimizerState state() const;
  void set_state(const OptimizerState& state);

 protected:
  explicit Optimizer(double learning_rate) { set_learning_rate(learning_rate); }
  Optimizer(const Optimizer&) = default;
  Optimizer& operator=(const Optimizer&) = default;

  // One named per-parameter buffer: empty until created, then one tensor per
  // parameter. `always` buffers exist after the first step (ADAM's moments);
  // others may be missing (SGD's velocity while Momentum is 0).
  struct Buffer {
    std::string name;
    std::vector<Tensor>* tensors;
    bool always;
  };
  virtual std::vector<Buffer> buffers() = 0;

  // The update proper, after the checks; `scale` is the clipping factor to
  // apply to every gradient (1 without clipping); steps() already counts
  // this step.
  virtual void update(std::span<Tensor* const> parameters, std::span<const Tensor* const> gradients,
                      float scale) = 0;

  // The learning-rate multiplier of parameter i in the step being made.
  float rate_multiplier(size_t i) const { return multipliers_.empty() ? 1.0f : multipliers_[i]; }

  // Options shared by all methods, for options()/set_option().
  void add_common_options(nlohmann::json& options) const;
  bool set_common_option(const std::string& key, const nlohmann::json& value);

 private:
  double learning_rate_ = 0;
  double gradient_clipping_ = 0;
  int64_t steps_ = 0;
  // The parameter shapes the state belongs to; empty until known.
  std::vector<Dims> shapes_;
  std::span<const float> multipliers_;  // during step() only
};

// Stochastic gradient descent, as torch.optim.SGD(lr, momentum, weight_decay)
// (no dampening, no Nesterov):
//   g ← ∇ + λ·p;  v ← g on the first step, μ·v + g after;  p ← p − η·v
// and p ← p − η·g when μ = 0.
class SGD : public Optimizer {
 public:
  // LearningRate η (default 0.01).
  explicit SGD(double learning_rate = 0.01);

  SGD& learning_rate(double value);
  double learning_rate() const { return Optimizer::learning_rate(); }
  // Momentum μ in [0, 1), default 0.
  SGD& momentum(double value);
  double momentum() const { return momentum_; }
  // L2Regularization λ ≥ 0 (PyTorch's weight_decay), default 0.
  SGD& l2_regularization(double value);
  double l2_regularization() const { return l2_; }
  // GradientClipping c ≥ 0, 0 for none (see the top of this file).
  SGD& gradient_clipping(double value);
  double gradient_clipping() const { return Optimizer::gradient_clipping(); }

  std::string method() const override { return "SGD"; }
  nlohmann::json options() const override;
  void set_option(const std::string& key, const nlohmann::json& value) override;

 protected:
  std::vector<Buffer> buffers() override;
  void update(std::span<Tensor* const> parameters, std::span<const Tensor* const> gradients,
              float scale) override;

 private:
  double momentum_ = 0;
  double l2_ = 0;
  std::vector<Tensor> velocity_;
};

// Adam (Kingma & Ba 2015), as torch.optim.Adam(lr, betas, eps, weight_decay)
// (amsgrad off). At step t (1 for the first):
//   g ← ∇ + λ·p;  m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²  (m, v start at 0)
//   p ← p − (η / (1 − β1^t)) · m / (sqrt(v) / sqrt(1 − β2^t) + ε)
class Adam : public Optimizer {
 public:
  // LearningRate η (default 0.001).
  explicit Adam(double learning_rate = 0.001);

  Adam& learning_rate(double value);
  double learning_rate() const { return Optimizer::learning_rate(); }
  // Beta1 and Beta2 in [0, 1), defaults 0.9 and 0.999.
  Adam& beta1(double value);
  double beta1() const { return beta1_; }
  Adam& beta2(double value);
  double beta2() const { return beta2_; }
  // Epsilon > 0, default 1e-8 (PyTorch's default).
  Adam& epsilon(double value);
  double epsilon() const { return epsilon_; }
  // L2Regularization λ ≥ 0 (PyTorch's weight_decay: added to the gradient,
  // not decoupled as in AdamW), default 0.
  Adam& l2_regularization(double value);
  double l2_regularization() const { return l2_; }
  // GradientClipping c ≥ 0, 0 for none (see the top of this file).
  Adam& gradient_clipping(double value);
  double gradient_clipping() const { return Optimizer::gradient_clipping(); }

  std::string method() const override { return "ADAM"; }
  nlohmann::json options() const override;
  void set_option(const std::string& key, const nlohmann::json& value) override;

 protected:
  std::vector<Buffer> buffers() override;
  void update(std::span<Tensor* const> parameters, std::span<const Tensor* const> gradients,
              float scale) override;

 private:
  double beta1_ = 0.9;
  double beta2_ = 0.999;
  double epsilon_ = 1e-8;
  double l2_ = 0;
  std::vector<Tensor> first_moment_;
  std::vector<Tensor> second_moment_;
};

// An optimizer by method name ("SGD" or "ADAM"), with options as JSON
// ({"LearningRate": 0.1, "Momentum": 0.9}); an unknown method or option is an
// Error listing the valid ones.
std::unique_ptr<Optimizer> make_optimizer(std::string_view method, const nlohmann::json& options);

}  // namespace strata
