#include "train/optimizer.hpp"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/error.hpp"
#include "core/threads.hpp"
#include "layers/layer.hpp"

namespace strata {

namespace {

// The shortest text that reads back as the same double ("0.1", "-1e-05").
std::string number(double value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc() ? std::string(buffer, end) : std::to_string(value);
}

double non_negative(double value, const char* key) {
  if (!(value >= 0) || !std::isfinite(value))
    throw Error(std::string(key) + ": expected a non-negative number, got " + number(value));
  return value;
}

double below_one(double value, const char* key) {
  if (!(value >= 0 && value < 1))
    throw Error(std::string(key) + ": expected a number in [0, 1), got " + number(value));
  return value;
}

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names)
    s += (s.empty() ? "" : ", ") + n;
  return s;
}

[[noreturn]] void throw_unknown(const Optimizer& o, const std::string& key,
                                const std::vector<std::string>& known) {
  throw Error("unknown option \"" + key + "\" for " + o.method() + " (options: " + join(known) +
              ")");
}

// Σ g² in double, in a fixed order (the same for any thread count); eight
// independent partial sums let the compiler vectorize without reassociating.
double squared_norm(const Tensor& t) {
  const float* g = t.data();
  const int64_t n = t.size();
  double lanes[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k)
      lanes[k] += static_cast<double>(g[i + k]) * g[i + k];
  double sum = 0;
  for (; i < n; ++i)
    sum += static_cast<double>(g[i]) * g[i];
  for (double lane : lanes)
    sum += lane;
  return sum;
}

// Elementwise updates are split over threads only when large enough to pay.
constexpr int64_t kParallelElements = 1 << 15;

}  // namespace

// ---------------------------------------------------------------- Optimizer

void Optimizer::set_learning_rate(double rate) {
  learning_rate_ = non_negative(rate, "LearningRate");
}

void Optimizer::set_gradient_clipping(double max_norm) {
  if (!(max_norm >= 0) || !std::isfinite(max_norm))
    throw Error("GradientClipping: expected a non-negative number (0 for none), got " +
                number(max_norm));
  gradient_clipping_ = max_norm;
}

void Optimizer::step(std::span<Tensor* const> parameters, std::span<const Tensor* const> gradients,
                     std::span<const float> rate_multipliers) {
  const size_t count = parameters.size();
  if (gradients.size() != count)
    throw Error(std::to_string(count) + " parameters but " + std::to_string(gradients.size()) +
                " gradients");
  if (!rate_multipliers.empty() && rate_multipliers.size() != count)
    throw Error(std::to_string(count) + " parameters but " +
                std::to_string(rate_multipliers.size()) + " learning-rate multipliers");
  for (size_t i = 0; i < rate_multipliers.size(); ++i)
    if (!(rate_multipliers[i] >= 0) || !std::isfinite(rate_multipliers[i]))
      throw Error("the learning-rate multiplier of parameter " + std::to_string(i) + " is " +
                  number(rate_multipliers[i]) + "; expected a number of at least 0");
  if (!shapes_.empty() && shapes_.size() != count)
    throw Error(std::to_string(count) + " parameters, but the optimizer's state is for " +
                std::to_string(shapes_.size()) +
                " (pass the same parameters, in the same order, every step)");
  for (size_t i = 0; i < count; ++i) {
    const std::string which = "parameter " + std::to_string(i);
    if (!parameters[i]) throw Error(which + " is null");
    if (!gradients[i]) throw Error("the gradient of " + which + " is null");
    if (gradients[i]->shape() != parameters[i]->shape())
      throw Error("the gradient of " + which + " has shape " + to_string(gradients[i]->shape()) +
                  ", expected " + to_string(parameters[i]->shape()) + " (the parameter's shape)");
    if (!shapes_.empty() && shapes_[i] != parameters[i]->shape())
      throw Error(which + " has shape " + to_string(parameters[i]->shape()) +
                  ", but the optimizer's state is for " + to_string(shapes_[i]) +
                  " (pass the same parameters, in the same order, every step)");
  }

  float scale = 1;
  if (gradient_clipping_ > 0) {
    double sum = 0;
    for (const Tensor* g : gradients)
      sum += squared_norm(*g);
    // torch.nn.utils.clip_grad_norm_: min(1, c / (‖∇‖ + 1e-6)).
    const double coefficient = gradient_clipping_ / (std::sqrt(sum) + 1e-6);
    if (coefficient < 1) scale = static_cast<float>(coefficient);
  }
  if (shapes_.empty())
    for (const Tensor* p : parameters)
      shapes_.push_back(p->shape());
  ++steps_;
  multipliers_ = rate_multipliers;
  update(parameters, gradients, scale);
  multipliers_ = {};
}

OptimizerState Optimizer::state() const {
  OptimizerState s{method(), steps_, {}};
  // buffers() hands out pointers to members; they are only read here.
  const auto buffers = const_cast<Optimizer*>(this)->buffers();
  for (size_t i = 0; i < shapes_.size(); ++i)
    for (const auto& b : buffers)
      if (!b.tensors->empty())
        s.tensors.emplace_back(std::to_string(i) + "." + b.name, (*b.tensors)[i]);
  return s;
}

void Optimizer::set_state(const OptimizerState& s) {
  const std::string context = "optimizer state: ";
  if (s.method != method())
    throw Error(context + "it is the state of " + (s.method.empty() ? "no method" : s.method) +
                ", not of " + method());
  if (s.steps < 0)
    throw Error(context + "steps: expected 0 or more, got " + std::to_string(s.steps));
  const auto buffers = this->buffers();
  std::vector<std::string> names;
  for (const auto& b : buffers)
    names.push_back("<i>." + b.name);

  // Sort the entries into [buffer][parameter index].
  std::vector<std::vector<std::optional<Tensor>>> parsed(buffers.size());
  for (const auto& [name, tensor] : s.tensors) {
    const size_t dot = name.find('.');
    size_t index = 0;
    const char* first = name.data();
    const char* last = name.data() + (dot == std::string::npos ? 0 : dot);
    auto [end, ec] = std::from_chars(first, last, index);
    size_t b = 0;
    while (b < buffers.size() &&
           (dot == std::string::npos || name.substr(dot + 1) != buffers[b].name))
      ++b;
    if (first == last || ec != std::errc() || end != last || index > 1'000'000'000 ||
        b == buffers.size())
      throw Error(context + "unexpected entry \"" + name + "\" (" + method() + " keeps " +
                  (names.empty() ? "none" : join(names)) + ", <i> a parameter index)");
    if (s.steps == 0)
      throw Error(context + "a state of 0 steps has no buffers, but it has \"" + name + "\"");
    auto& slots = parsed[b];
    if (slots.size() <= index) slots.resize(index + 1);
    if (slots[index]) throw Error(context + "\"" + name + "\" appears twice");
    slots[index] = tensor;
  }
  size_t count = 0;
  for (const auto& slots : parsed)
    count = std::max(count, slots.size());
  for (size_t b = 0; b < buffers.size(); ++b) {
    if (parsed[b].empty()) {
      if (buffers[b].always && s.steps > 0)
        throw Error(context + "missing \"0." + buffers[b].name + "\" (" + method() +
                    " keeps it for every parameter after the first step)");
      continue;
    }
    parsed[b].resize(count);
    for (size_t i = 0; i < count; ++i) {
      const std::string name = std::to_string(i) + "." + buffers[b].name;
      if (!parsed[b][i]) throw Error(context + "missing \"" + name + "\"");
      // Every buffer of a parameter has the parameter's shape.
      for (size_t a = 0; a < b; ++a)
        if (!parsed[a].empty() && parsed[a][i]->shape() != parsed[b][i]->shape())
          throw Error(context + "\"" + name + "\" has shape " + to_string(parsed[b][i]->shape()) +
                      ", but \"" + std::to_string(i) + "." + buffers[a].name + "\" has " +
                      to_string(parsed[a][i]->shape()));
    }
  }

  // All checked: replace the state.
  steps_ = s.steps;
  shapes_.clear();
  for (size_t b = 0; b < buffers.size(); ++b) {
    buffers[b].tensors->clear();
    for (auto& t : parsed[b])
      buffers[b].tensors->push_back(std::move(*t));
    if (!parsed[b].empty() && shapes_.empty())
      for (const auto& t : *buffers[b].tensors)
        shapes_.push_back(t.shape());
  }
}

void Optimizer::add_common_options(nlohmann::json& options) const {
  options["LearningRate"] = learning_rate_;
  options["GradientClipping"] =
      gradient_clipping_ > 0 ? nlohmann::json(gradient_clipping_) : nlohmann::json(nullptr);
}

bool Optimizer::set_common_option(const std::string& key, const nlohmann::json& value) {
  if (key == "LearningRate") {
    set_learning_rate(option_number(value, key));
  } else if (key == "GradientClipping") {
    set_gradient_clipping(value.is_null() ? 0.0 : option_number(value, key));
  } else {
    return false;
  }
  return true;
}

// ---------------------------------------------------------------- SGD

SGD::SGD(double learning_rate) : Optimizer(learning_rate) {}

SGD& SGD::learning_rate(double value) {
  set_learning_rate(value);
  return *this;
}

SGD& SGD::momentum(double value) {
  momentum_ = below_one(value, "Momentum");
  return *this;
}

SGD& SGD::l2_regularization(double value) {
  l2_ = non_negative(value, "L2Regularization");
  return *this;
}

SGD& SGD::gradient_clipping(double value) {
  set_gradient_clipping(value);
  return *this;
}

nlohmann::json SGD::options() const {
  nlohmann::json o = nlohmann::json::object();
  add_common_options(o);
  o["Momentum"] = momentum_;
  o["L2Regularization"] = l2_;
  return o;
}

void SGD::set_option(const std::string& key, const nlohmann::json& value) {
  if (set_common_option(key, value)) return;
  if (key == "Momentum") {
    momentum(option_number(value, key));
  } else if (key == "L2Regularization") {
    l2_regularization(option_number(value, key));
  } else {
    throw_unknown(*this, key, {"LearningRate", "Momentum", "L2Regularization", "GradientClipping"});
  }
}

std::vector<Optimizer::Buffer> SGD::buffers() {
  return {{"Velocity", &velocity_, false}};
}

void SGD::update(std::span<Tensor* const> parameters, std::span<const Tensor* const> gradients,
                 float scale) {
  const auto base_lr = static_cast<float>(Optimizer::learning_rate());
  const auto mu = static_cast<float>(momentum_);
  const auto l2 = static_cast<float>(l2_);
  const bool decay = l2_ != 0;
  // PyTorch creates the momentum buffer on the first step with momentum.
  const bool fresh = momentum_ != 0 && velocity_.empty();
  if (fresh) velocity_.resize(parameters.size());
  for (size_t i = 0; i < parameters.size(); ++i) {
    float* p = parameters[i]->data();
    const float* g = gradients[i]->data();
    const int64_t n = parameters[i]->size();
    // η·r, exactly η when r = 1: a multiplier of 1 changes nothing.
    const float lr = base_lr * rate_multiplier(i);
    if (momentum_ == 0) {
      parallel_for(
          n,
          [&](int64_t j) {
            const float d = decay ? scale * g[j] + l2 * p[j] : scale * g[j];
            p[j] -= lr * d;
          },
          kParallelElements);
      continue;
    }
    if (fresh) velocity_[i].resize(parameters[i]->shape());
    float* v = velocity_[i].data();
    parallel_for(
        n,
        [&](int64_t j) {
          const float d = decay ? scale * g[j] + l2 * p[j] : scale * g[j];
          v[j] = fresh ? d : mu * v[j] + d;
          p[j] -= lr * v[j];
        },
        kParallelElements);
  }
}

// ---------------------------------------------------------------- Adam

Adam::Adam(double learning_rate) : Optimizer(learning_rate) {}

Adam& Adam::learning_rate(double value) {
  set_learning_rate(value);
  return *this;
}

Adam& Adam::beta1(double value) {
  beta1_ = below_one(value, "Beta1");
  return *this;
}

Adam& Adam::beta2(double value) {
  beta2_ = below_one(value, "Beta2");
  return *this;
}

Adam& Adam::epsilon(double value) {
  // 0 would make a parameter whose gradients are all 0 so far NaN (0 / 0).
  if (!(value > 0) || !std::isfinite(value))
    throw Error("Epsilon: expected a positive number, got " + number(value));
  epsilon_ = value;
  return *this;
}

Adam& Adam::l2_regularization(double value) {
  l2_ = non_negative(value, "L2Regularization");
  return *this;
}

Adam& Adam::gradient_clipping(double value) {
  set_gradient_clipping(value);
  return *this;
}

nlohmann::json Adam::options() const {
  nlohmann::json o = nlohmann::json::object();
  add_common_options(o);
  o["Beta1"] = beta1_;
  o["Beta2"] = beta2_;
  o["Epsilon"] = epsilon_;
  o["L2Regularization"] = l2_;
  return o;
}

void Adam::set_option(const std::string& key, const nlohmann::json& value) {
  if (set_common_option(key, value)) return;
  if (key == "Beta1") {
    beta1(option_number(value, key));
  } else if (key == "Beta2") {
    beta2(option_number(value, key));
  } else if (key == "Epsilon") {
    epsilon(option_number(value, key));
  } else if (key == "L2Regularization") {
    l2_regularization(option_number(value, key));
  } else {
    throw_unknown(
        *this, key,
        {"LearningRate", "Beta1", "Beta2", "Epsilon", "L2Regularization", "GradientClipping"});
  }
}

std::vector<Optimizer::Buffer> Adam::buffers() {
  return {{"FirstMoment", &first_moment_, true}, {"SecondMoment", &second_moment_, true}};
}

void Adam::update(std::span<Tensor* const> parameters, std::span<const Tensor* const> gradients,
                  float scale) {
  if (first_moment_.empty()) {
    for (const Tensor* p : parameters) {
      first_moment_.emplace_back(p->shape(), 0.0f);
      second_moment_.emplace_back(p->shape(), 0.0f);
    }
  }
  // The scalars as PyTorch computes them: in double, then used with float tensors.
  const auto t = static_cast<double>(steps());
  const double bias_correction1 = 1 - std::pow(beta1_, t);
  const double bias_correction2 = 1 - std::pow(beta2_, t);
  const auto base_step_size = static_cast<float>(Optimizer::learning_rate() / bias_correction1);
  const auto bias_correction2_sqrt = static_cast<float>(std::sqrt(bias_correction2));
  const auto b1 = static_cast<float>(beta1_), one_minus_b1 = static_cast<float>(1 - beta1_);
  const auto b2 = static_cast<float>(beta2_), one_minus_b2 = static_cast<float>(1 - beta2_);
  const auto eps = static_cast<float>(epsilon_);
  const auto l2 = static_cast<float>(l2_);
  const bool decay = l2_ != 0;
  for (size_t i = 0; i < parameters.size(); ++i) {
    float* p = parameters[i]->data();
    const float* g = gradients[i]->data();
    float* m = first_moment_[i].data();
    float* v = second_moment_[i].data();
    const int64_t n = parameters[i]->size();
    const float step_size = base_step_size * rate_multiplier(i);
    parallel_for(
        n,
        [&](int64_t j) {
          const float d = decay ? scale * g[j] + l2 * p[j] : scale * g[j];
          m[j] = b1 * m[j] + one_minus_b1 * d;
          v[j] = b2 * v[j] + one_minus_b2 * d * d;
          const float denominator = std::sqrt(v[j]) / bias_correction2_sqrt + eps;
          p[j] -= step_size * (m[j] / denominator);
        },
        kParallelElements);
  }
}

// ---------------------------------------------------------------- make_optimizer

std::unique_ptr<Optimizer> make_optimizer(std::string_view method, const nlohmann::json& options) {
  std::unique_ptr<Optimizer> optimizer;
  if (method == "SGD") {
    optimizer = std::make_unique<SGD>();
  } else if (method == "ADAM") {
    optimizer = std::make_unique<Adam>();
  } else {
    throw Error("unknown optimization method \"" + std::string(method) + "\" (methods: SGD, ADAM)");
  }
  if (!options.is_null() && !options.is_object())
    throw Error(std::string(method) + ": expected options as a JSON object, got " + options.dump());
  if (options.is_object())
    for (const auto& [key, value] : options.items())
      optimizer->set_option(key, value);
  return optimizer;
}

}  // namespace strata
