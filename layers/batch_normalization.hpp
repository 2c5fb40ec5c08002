// BatchNormalizationLayer (Ioffe & Szegedy 2015, "Batch Normalization:
// Accelerating Deep Network Training by Reducing Internal Covariate Shift").
// Per channel c, over the batch and every spatial position:
//   y = Gamma_c (x − m_c) / sqrt(v_c + Epsilon) + Beta_c.
// While training (RunContext.mode == Mode::Training), m and v are the batch
// mean and the biased batch variance; update_state() then commits
//   MovingMean     = Momentum · MovingMean     + (1 − Momentum) · m,
//   MovingVariance = Momentum · MovingVariance + (1 − Momentum) · v_unbiased.
// (PyTorch's `momentum` is 1 − Momentum.) Otherwise m and v are MovingMean
// and MovingVariance. In data-parallel training (RunContext.communicator of
// more than one process) m and v are those of the global batch, every
// process's shard together, and backward reduces its sums across processes
// too (synchronized batch normalization, as PyTorch's SyncBatchNorm): the
// layer trains as in one process. Every process then runs the layer, an
// empty shard included.
// Input: [C] or [C, d1, d2, …]; Output: the same shape.
// Arrays: Gamma [C], Beta [C] (trainable); MovingMean [C], MovingVariance [C]
// (state, not trainable).
#pragma once

#include "layers/layer.hpp"

namespace strata {

class BatchNormalizationLayer : public Layer {
 public:
  BatchNormalizationLayer();

  // Added to the variance inside the square root; must be positive (0.001).
  BatchNormalizationLayer& epsilon(double value);
  double epsilon() const { return epsilon_; }
  // The weight of the old moving statistics in each update, in [0, 1] (0.9).
  BatchNormalizationLayer& momentum(double value);
  double momentum() const { return momentum_; }

  std::string type() const override { return "BatchNormalizationLayer"; }
  std::unique_ptr<Layer> clone() const override;
  const OptionTable& option_table() const override;
  LayerTraits traits() const override { return {.transparent_to_activation = true}; }

  std::unique_ptr<Workspace> make_workspace() const override;
  // Training needs more than one value per channel (batch × spatial positions),
  // as in PyTorch: the variance of one value says nothing.
  void forward(Inputs in, Outputs out, Workspace* ws, const RunContext& ctx) const override;
  // In training mode this is the gradient through the batch statistics.
  void backward(Inputs in, Inputs out, Inputs out_grad, Workspace* ws, Outputs in_grad,
                Outputs array_grad) const override;
  // Commits the statistics of the last training-mode forward that used `ws`
  // to MovingMean and MovingVariance, once; otherwise does nothing.
  void update_state(Workspace* ws) override;

  static constexpr size_t kGamma = 0;
  static constexpr size_t kBeta = 1;
  static constexpr size_t kMovingMean = 2;
  static constexpr size_t kMovingVariance = 3;

 protected:
  void infer() override;
  // MovingVariance is a variance: a negative one is refused (its square
  // root would be NaN in every inference).
  void check_array_values(size_t i, const Tensor& value) const override;

 private:
  double epsilon_ = 0.001;
  double momentum_ = 0.9;
};

}  // namespace strata
