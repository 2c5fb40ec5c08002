// Losses and optimizers together: training steps of a linear model, written
// out here, against the same steps in PyTorch (tests/data/make_training_steps.py).
#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "support/reference.hpp"
#include "train/loss.hpp"
#include "train/optimizer.hpp"

using namespace strata;
using strata::testing::compare_tensors;
using strata::testing::tensor_from_json;

TEST_CASE("training steps of a linear model match PyTorch (loss, gradients, optimizer)") {
  const auto file = strata::testing::load_test_data("training_steps.json");
  REQUIRE(file.at("cases").size() >= 3);
  for (const auto& c : file.at("cases")) {
    const std::string name = c.at("name");
    CAPTURE(name);
    const Tensor x = tensor_from_json(c.at("inputs"));
    const Tensor targets = tensor_from_json(c.at("targets"));
    Tensor w = tensor_from_json(c.at("weights"));
    Tensor b = tensor_from_json(c.at("biases"));
    const LossFunction loss = parse_loss_function(c.at("loss").get<std::string>());
    auto optimizer = make_optimizer(c.at("method").get<std::string>(), c.at("options"));
    const int64_t n = x.dim(0), n_in = x.dim(1), n_out = w.dim(0);
    Tensor y({n, n_out}), dy, dw(w.shape()), db(b.shape());
    const auto& losses = c.at("losses");
    for (size_t step = 0; step < losses.size(); ++step) {
      CAPTURE(step);
      // y = x Wᵀ + b
      for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < n_out; ++k) {
          double sum = b[k];
          for (int64_t j = 0; j < n_in; ++j)
            sum += double(x[i * n_in + j]) * w[k * n_in + j];
          y[i * n_out + k] = static_cast<float>(sum);
        }
      const double value = compute_loss(loss, y, targets, ClassScores::Logits, &dy);
      const double want = losses[step];
      CHECK(std::abs(value - want) <= 1e-5 * std::abs(want) + 1e-6);
      // dW = dyᵀ x, db = Σ_i dy_i
      dw.fill(0);
      db.fill(0);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < n_out; ++k) {
          db[k] += dy[i * n_out + k];
          for (int64_t j = 0; j < n_in; ++j)
            dw[k * n_in + j] += dy[i * n_out + k] * x[i * n_in + j];
        }
      optimizer->step(std::vector<Tensor*>{&w, &b}, std::vector<const Tensor*>{&dw, &db});
    }
    CHECK(compare_tensors(w, tensor_from_json(c.at("final_weights")), 1e-4, 1e-5) <= 1.0);
    CHECK(compare_tensors(b, tensor_from_json(c.at("final_biases")), 1e-4, 1e-5) <= 1.0);
  }
}
