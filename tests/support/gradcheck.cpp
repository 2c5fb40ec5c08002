#include "support/gradcheck.hpp"

#include <cmath>
#include <sstream>

#include "core/rng.hpp"

namespace strata::testing {

namespace {

// Runs the layer forward and returns L = Σ w_k ⊙ y_k in double precision.
double loss(const Layer& layer, const std::vector<Tensor>& inputs, const std::vector<Tensor>& w,
            Mode mode, uint64_t seed, std::vector<Tensor>* outputs = nullptr,
            std::unique_ptr<Workspace>* keep = nullptr) {
  std::vector<const Tensor*> in;
  for (const auto& t : inputs)
    in.push_back(&t);
  std::vector<Tensor> out(layer.outputs().size());
  std::vector<Tensor*> outp;
  for (auto& t : out)
    outp.push_back(&t);
  auto ws = layer.make_workspace();
  Rng rng(seed);  // the same randomness (dropout masks) for every evaluation
  layer.forward(in, outp, ws.get(), RunContext{mode, &rng});
  double l = 0;
  for (size_t k = 0; k < out.size() && k < w.size(); ++k)
    for (int64_t i = 0; i < out[k].size(); ++i)
      l += static_cast<double>(w[k][i]) * out[k][i];
  if (outputs) *outputs = std::move(out);
  if (keep) *keep = std::move(ws);
  return l;
}

std::vector<int64_t> sample(int64_t n, int max, Rng& rng) {
  std::vector<int64_t> idx;
  if (n <= max) {
    for (int64_t i = 0; i < n; ++i)
      idx.push_back(i);
  } else {
    for (int k = 0; k < max; ++k)
      idx.push_back(static_cast<int64_t>(rng.below(n)));
  }
  return idx;
}

void compare(GradCheckReport& report, const GradCheckOptions& o, double num, double ana,
             const std::string& what) {
  const double err = std::abs(num - ana) / (o.atol + o.rtol * std::abs(num));
  ++report.checked;
  if (err > report.max_error || !std::isfinite(err)) {
    report.max_error = std::isfinite(err) ? err : 1e300;
    std::ostringstream s;
    s << what << ": finite difference " << num << ", backward " << ana;
    report.worst = s.str();
  }
}

}  // namespace

Tensor random_tensor(const Dims& shape, uint64_t seed, float lo, float hi) {
  Tensor t(shape);
  Rng rng(seed);
  for (float& v : t.values())
    v = lo + (hi - lo) * static_cast<float>(rng.uniform());
  return t;
}

GradCheckReport check_gradients(const Layer& layer, const std::vector<Tensor>& inputs,
                                const GradCheckOptions& o) {
  GradCheckReport report;
  Rng rng(o.seed);
  // Forward once to learn the output shapes, then draw the weights.
  std::vector<Tensor> outputs;
  loss(layer, inputs, {}, o.mode, o.seed, &outputs);
  std::vector<Tensor> w;
  for (size_t k = 0; k < outputs.size(); ++k)
    w.push_back(random_tensor(outputs[k].shape(), o.seed + 100 + k, -1.0f, 1.0f));

  // Analytic gradients.
  std::unique_ptr<Workspace> ws;
  loss(layer, inputs, w, o.mode, o.seed, &outputs, &ws);
  std::vector<const Tensor*> in, out, gout;
  for (const auto& t : inputs)
    in.push_back(&t);
  for (const auto& t : outputs)
    out.push_back(&t);
  for (const auto& t : w)
    gout.push_back(&t);
  std::vector<Tensor> gin(inputs.size()), garr(layer.arrays().size());
  std::vector<Tensor*> ginp, garrp;
  for (auto& t : gin)
    ginp.push_back(o.check_inputs ? &t : nullptr);
  for (size_t a = 0; a < garr.size(); ++a)
    garrp.push_back(o.check_arrays && layer.arrays()[a].trainable ? &garr[a] : nullptr);
  layer.backward(in, out, gout, ws.get(), ginp, garrp);

  if (o.check_inputs) {
    for (size_t k = 0; k < inputs.size(); ++k) {
      for (int64_t i : sample(inputs[k].size(), o.max_elements, rng)) {
        std::vector<Tensor> x = inputs;
        const float x0 = x[k][i];
        const float h = static_cast<float>(o.step * std::max(1.0f, std::abs(x0)));
        x[k][i] = x0 + h;
        const double lp = loss(layer, x, w, o.mode, o.seed);
        x[k][i] = x0 - h;
        const double lm = loss(layer, x, w, o.mode, o.seed);
        const double num = (lp - lm) / (2.0 * h);
        compare(report, o, num, gin[k][i],
                layer.inputs()[std::min(k, layer.inputs().size() - 1)].name + "[" +
                    std::to_string(k) + "][" + std::to_string(i) + "]");
      }
    }
  }
  if (o.check_arrays) {
    for (size_t a = 0; a < layer.arrays().size(); ++a) {
      const auto& slot = layer.arrays()[a];
      if (!slot.trainable || !slot.value) continue;
      for (int64_t i : sample(slot.value->size(), o.max_elements, rng)) {
        auto copy = layer.clone();
        Tensor v = *slot.value;
        const float v0 = v[i];
        const float h = static_cast<float>(o.step * std::max(1.0f, std::abs(v0)));
        v[i] = v0 + h;
        copy->set_array(slot.name, v);
        const double lp = loss(*copy, inputs, w, o.mode, o.seed);
        v[i] = v0 - h;
        copy->set_array(slot.name, v);
        const double lm = loss(*copy, inputs, w, o.mode, o.seed);
        compare(report, o, (lp - lm) / (2.0 * h), garr[a][i],
                slot.name + "[" + std::to_string(i) + "]");
      }
    }
  }
  return report;
}

}  // namespace strata::testing
