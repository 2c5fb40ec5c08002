#include "train/net_train.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <utility>

#include "core/communicator.hpp"
#include "core/error.hpp"
#include "core/rng.hpp"
#include "graph/net.hpp"
#include "train/initialize.hpp"
#include "train/observer.hpp"
#include "train/progress.hpp"
#include "train/training_step.hpp"

namespace strata {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Copies the examples at indices[0..count) of `src` into `dst` (batch first).
void gather(const Tensor& src, const int64_t* indices, int64_t count, Tensor& dst) {
  const int64_t row = src.dim(0) ? src.size() / src.dim(0) : 0;
  // src's shape with `count` examples, built on the stack: a training step
  // allocates nothing.
  std::array<int64_t, 8> small;
  if (src.rank() <= small.size()) {
    std::copy(src.shape().begin(), src.shape().end(), small.begin());
    small[0] = count;
    dst.resize(std::span<const int64_t>(small.data(), src.rank()));
  } else {
    Dims shape = src.shape();
    shape[0] = count;
    dst.resize(shape);
  }
  for (int64_t i = 0; i < count; ++i)
    std::memcpy(dst.data() + i * row, src.data() + indices[i] * row, sizeof(float) * row);
}

// Checks that a dataset fits the net's single input, and fills in what the
// net does not know yet of its input shape from the data.
void check_data(Layer& net, const Dataset& data, const char* what) {
  if (data.inputs.rank() < 1 || data.size() == 0) throw Error(std::string(what) + ": no examples");
  const Dims example(data.inputs.shape().begin() + 1, data.inputs.shape().end());
  if (!fits(example, net.inputs()[0].shape))
    throw Error(std::string(what) + ": examples of shape " + to_string(example) +
                " do not fit the net's Input " + net.inputs()[0].shape.to_string());
  if (data.targets.rank() < 1 || data.targets.dim(0) != data.size())
    throw Error(std::string(what) + ": " + std::to_string(data.size()) + " inputs but " +
                (data.targets.rank() ? std::to_string(data.targets.dim(0)) : std::string("no")) +
                " targets");
  net.constrain_input(0, Shape(example));
  net.infer_shapes();
}

ClassScores scores_of(const Layer& net) {
  return ends_in_softmax(net) ? ClassScores::Probabilities : ClassScores::Logits;
}

// The observers of one training: the user's, or else the terminal's unless
// quiet; and TrainOptions' on_round and stop, which are checked alongside.
class Observers : public TrainObserver {
 public:
  explicit Observers(const TrainOptions& options) : options_(options) {
    if (options.observer) {
      main_ = options.observer;
    } else if (!options.quiet && (!options.communicator || options.communicator->rank() == 0)) {
      terminal_.emplace();
      main_ = &*terminal_;
    }
    if (main_) main_->clear_stop();
  }

  void training_started(const TrainPlan& plan) override {
    if (main_) main_->training_started(plan);
  }
  void batch_ended(const BatchReport& batch) override {
    if (main_) main_->batch_ended(batch);
  }
  void validation_done(const RoundRecord& record) override {
    if (main_) main_->validation_done(record);
  }
  void round_ended(const RoundRecord& record) override {
    if (main_) main_->round_ended(record);
    if (options_.on_round && !options_.on_round(record)) request_stop();
  }
  void training_ended(const TrainResult& result) override {
    if (main_) main_->training_ended(result);
  }

  // Has anyone asked training to stop?
  bool stopping() const {
    return stop_requested() || (main_ && main_->stop_requested()) ||
           (options_.stop && options_.stop->load());
  }

 private:
  const TrainOptions& options_;
  std::optional<TerminalProgress> terminal_;
  TrainObserver* main_ = nullptr;
};

// ---- Data-parallel training

// This process's share of a global batch of `count` examples: its first
// example and how many; the first count % size ranks take one more.
std::pair<int64_t, int64_t> share_of(int64_t count, int rank, int size) {
  const int64_t base = count / size, extra = count % size;
  return {rank * base + std::min<int64_t>(rank, extra), base + (rank < extra ? 1 : 0)};
}

double sum_of(const Tensor& t) {
  double s = 0;
  for (float v : t.values())
    s += v;
  return s;
}

// Every process must train on the same data and net: rank 0's sizes and sums
// are compared with each one's, and all of them learn whether any differs.
void check_same_everywhere(Communicator& comm, const Dataset& data, const Dataset& validation,
                           const Layer& net) {
  int64_t values = 0;
  for (const ArrayRef& a : net.all_arrays())
    if (const auto& value = a.layer->arrays()[a.index].value) values += value->size();
  const double mine[] = {static_cast<double>(data.size()),
                         sum_of(data.inputs),
                         sum_of(data.targets),
                         static_cast<double>(validation.size()),
                         validation.size() ? sum_of(validation.inputs) : 0.0,
                         validation.size() ? sum_of(validation.targets) : 0.0,
                         static_cast<double>(values)};
  constexpr int kCount = sizeof(mine) / sizeof(mine[0]);
  double root[kCount];
  std::copy(std::begin(mine), std::end(mine), root);
  comm.broadcast(root, sizeof(root), 0);
  int differ = -1;  // the first quantity that differs from rank 0's
  for (int i = 0; i < kCount && differ < 0; ++i)
    if (std::memcmp(&mine[i], &root[i], sizeof(double)) != 0) differ = i;
  // Which quantities differ, on any process: a bit each.
  double flags[kCount] = {};
  if (differ >= 0) flags[differ] = 1;
  comm.allreduce_sum(flags, kCount);
  static const char* what[kCount] = {
      "the number of training examples",   "the training data",   "the training data",
      "the number of validation examples", "the validation data", "the validation data",
      "the size of the net's arrays"};
  for (int i = 0; i < kCount; ++i)
    if (flags[i] > 0)
      throw Error("data-parallel training: " + std::string(what[i]) + " differs between rank 0 " +
                  "and " + std::to_string(static_cast<int>(flags[i])) +
                  " other process(es): every process must read the same data and net" +
                  (differ == i ? " (this is rank " + std::to_string(comm.rank()) + ")" : ""));
}

// Rank 0's arrays (state included) on every process, in one broadcast.
void broadcast_arrays(Communicator& comm, Layer& net) {
  std::vector<Tensor*> arrays;
  size_t total = 0;
  for (const ArrayRef& a : net.all_arrays())
    if (Tensor* t = a.layer->mutable_array(a.index)) {
      arrays.push_back(t);
      total += static_cast<size_t>(t->size());
    }
  std::vector<float> buffer(total);
  float* f = buffer.data();
  for (const Tensor* t : arrays)
    f = std::copy(t->values().begin(), t->values().end(), f);
  comm.broadcast(buffer.data(), static_cast<int64_t>(total * sizeof(float)), 0);
  f = buffer.data();
  for (Tensor* t : arrays) {
    std::copy_n(f, t->size(), t->data());
    f += t->size();
  }
}

// Whether any process says yes.
bool any_of(Communicator* comm, bool mine) {
  if (!is_distributed(comm)) return mine;
  double v = mine ? 1 : 0;
  comm->allreduce_sum(&v, 1);
  return v > 0;
}

}  // namespace

Dataset subset(const Dataset& data, const std::vector<int64_t>& indices) {
  Dataset out;
  for (int64_t i : indices)
    if (i < 0 || i >= data.size()) throw Error("example index out of range");
  gather(data.inputs, indices.data(), static_cast<int64_t>(indices.size()), out.inputs);
  gather(data.targets, indices.data(), static_cast<int64_t>(indices.size()), out.targets);
  return out;
}

std::string data_fingerprint(const Dataset& data) {
  // FNV-1a over 64-bit words, each value's bits as they are (so -0 and 0
  // differ, as the data does), then a final mix.
  uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](uint64_t word) { h = (h ^ word) * 0x100000001b3ull; };
  for (const Tensor* t : {&data.inputs, &data.targets}) {
    mix(t->rank());
    for (int64_t d : t->shape())
      mix(static_cast<uint64_t>(d));
    const float* v = t->data();
    for (int64_t i = 0; i < t->size(); ++i) {
      uint32_t bits = 0;
      std::memcpy(&bits, v + i, sizeof bits);
      mix(bits);
    }
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return text;
}

bool ends_in_softmax(const Layer& net) {
  if (net.traits().outputs_probabilities) return true;
  if (const auto* n = dynamic_cast<const Net*>(&net)) {
    if (n->outputs().size() != 1) return false;
    const auto& src = n->output_source(0);
    return src.node != Net::kNetPort && ends_in_softmax(n->layer(src.node));
  }
  return false;
}

LossFunction default_loss(const Layer& net) {
  return ends_in_softmax(net) ? LossFunction::CrossEntropy : LossFunction::MeanSquared;
}

Evaluation evaluate(const Layer& net, const Dataset& data, LossFunction loss, int64_t batch_size) {
  if (net.inputs().size() != 1 || net.outputs().size() != 1)
    throw Error("evaluate needs a net with one input and one output");
  if (data.size() == 0) throw Error("evaluate: no examples");
  if (data.targets.rank() < 1 || data.targets.dim(0) != data.size())
    throw Error("evaluate: the number of targets differs from the number of inputs");
  Evaluation ev;
  ev.examples = data.size();
  const bool classify = loss == LossFunction::CrossEntropy;
  auto ws = net.make_workspace();
  Tensor x, t, y;
  std::vector<int64_t> idx;
  double total = 0;
  int64_t correct = 0;
  for (int64_t start = 0; start < data.size(); start += batch_size) {
    const int64_t count = std::min(batch_size, data.size() - start);
    idx.resize(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i)
      idx[i] = start + i;
    gather(data.inputs, idx.data(), count, x);
    gather(data.targets, idx.data(), count, t);
    const Tensor* in[] = {&x};
    Tensor* out[] = {&y};
    net.forward(in, out, ws.get(), RunContext{});
    total += compute_loss(loss, y, t, scores_of(net), nullptr) * count;
    const int64_t row = y.size() / count;
    for (int64_t i = 0; i < count; ++i) {
      const float* v = y.data() + i * row;
      if (std::all_of(v, v + row, [](float e) { return std::isfinite(e); })) continue;
      if (ev.non_finite++ == 0) ev.first_non_finite = start + i;
    }
    if (classify) {
      const int64_t k = y.size() / count;
      if (ev.confusion.empty()) ev.confusion.assign(k, std::vector<int64_t>(k, 0));
      for (int64_t i = 0; i < count; ++i) {
        const float* row = y.data() + i * k;
        const int64_t predicted = std::max_element(row, row + k) - row;
        const auto target = static_cast<int64_t>(t[i]);
        ev.confusion[target][predicted] += 1;
        correct += predicted == target;
      }
    }
  }
  ev.loss = total / data.size();
  if (classify) ev.accuracy = static_cast<double>(correct) / data.size();
  return ev;
}

TrainResult NetTrain(Layer& net, const Dataset& data, const TrainOptions& options) {
  Adam adam;
  return NetTrain(net, data, options, adam);
}

TrainResult NetTrain(Layer& net, const Dataset& data, const TrainOptions& options,
                     Optimizer&& optimizer) {
  return NetTrain(net, data, options, optimizer);
}

TrainResult NetTrain(Layer& net, const Dataset& all_data, const TrainOptions& options,
                     Optimizer& optimizer) {
  const auto start = Clock::now();
  if (net.inputs().size() != 1 || net.outputs().size() != 1)
    throw Error("NetTrain needs a net with one input and one output; this one has " +
                std::to_string(net.inputs().size()) + " and " +
                std::to_string(net.outputs().size()));
  if (options.batch_size < 1) throw Error("BatchSize must be at least 1");
  if (options.rounds < 1) throw Error("MaxTrainingRounds must be at least 1");
  if (options.validation_split < 0 || options.validation_split >= 1)
    throw Error("ValidationSet: a held-out fraction must be in [0, 1)");
  check_data(net, all_data, "training data");

  // The validation set: given, or a seeded random fraction of the data.
  const Rng root(options.seed);
  Dataset data_storage, validation;
  const Dataset* data = &all_data;
  if (options.validation) {
    validation = *options.validation;
    check_data(net, validation, "validation data");
  } else if (options.validation_split > 0) {
    std::vector<int64_t> order(static_cast<size_t>(all_data.size()));
    for (int64_t i = 0; i < all_data.size(); ++i)
      order[i] = i;
    Rng rng = root.derive(3);
    for (int64_t i = all_data.size() - 1; i > 0; --i)
      std::swap(order[i], order[rng.below(static_cast<uint64_t>(i + 1))]);
    const auto held = static_cast<int64_t>(std::floor(options.validation_split * all_data.size()));
    if (held < 1 || held >= all_data.size())
      throw Error("ValidationSet: a fraction of " + std::to_string(options.validation_split) +
                  " leaves no examples on one side");
    validation = subset(all_data, std::vector<int64_t>(order.begin(), order.begin() + held));
    data_storage = subset(all_data, std::vector<int64_t>(order.begin() + held, order.end()));
    data = &data_storage;
  }
  const bool has_validation = validation.size() > 0;

  if (!net.missing_arrays().empty()) NetInitialize(net, {.seed = options.seed});
  Communicator* comm = is_distributed(options.communicator) ? options.communicator : nullptr;
  TrainResult result;
  result.loss = options.loss ? *options.loss : default_loss(net);
  TrainingStep step(net, optimizer, result.loss,
                    options.learning_rate_multipliers.empty()
                        ? std::vector<double>{}
                        : resolve_learning_rate_multipliers(net, options.learning_rate_multipliers),
                    comm);
  const Rng dropout_root = root.derive(1), shuffle_root = root.derive(2);
  const int64_t n = data->size();
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    order[i] = i;
  Tensor x, t;
  const double initial_rate = optimizer.learning_rate();
  Observers observers(options);
  double training_seconds = 0;
  int64_t trained_examples = 0;
  const int64_t batches_per_round = (n + options.batch_size - 1) / options.batch_size;
  result.batch_losses.reserve(
      static_cast<size_t>(std::min<int64_t>(batches_per_round * options.rounds, 1 << 20)));
  result.rounds.reserve(static_cast<size_t>(std::min(options.rounds, 1 << 12)));

  if (options.start.round < 1 || options.start.batch < 0)
    throw Error("start: round must be at least 1 and batch at least 0");
  result.next = options.start;
  if (comm) {
    check_same_everywhere(*comm, *data, validation, net);
    broadcast_arrays(*comm, net);
  }
  observers.training_started({.rounds = options.rounds,
                              .examples = n,
                              .batches = batches_per_round,
                              .validation_examples = validation.size(),
                              .loss = result.loss,
                              .start = options.start});
  try {
    for (int round = options.start.round; round <= options.rounds && !result.stopped; ++round) {
      const auto round_start = Clock::now();
      // Each round's order depends only on the seed and the round (resumable).
      for (int64_t i = 0; i < n; ++i)
        order[i] = i;
      if (options.shuffle) {
        Rng shuffle_rng = shuffle_root.derive(static_cast<uint64_t>(round));
        for (int64_t i = n - 1; i > 0; --i)
          std::swap(order[i], order[shuffle_rng.below(static_cast<uint64_t>(i + 1))]);
        // Rank 0's order, whatever the others computed.
        if (comm) comm->broadcast(order.data(), n * static_cast<int64_t>(sizeof(int64_t)), 0);
      }
      if (options.schedule) optimizer.set_learning_rate(options.schedule(round, initial_rate));
      RoundRecord record;
      record.round = round;
      record.learning_rate = optimizer.learning_rate();
      const bool resumed = round == options.start.round && options.start.batch > 0;
      double loss_sum = resumed ? options.start_partial.loss_sum : 0;
      int64_t examples = resumed ? options.start_partial.examples : 0;
      const double seconds_before = resumed ? options.start_partial.seconds : 0;
      int64_t round_examples = 0;  // trained in this call
      int64_t batch_index = round == options.start.round ? options.start.batch : 0;
      for (int64_t start = batch_index * options.batch_size; start < n;
           start += options.batch_size, ++batch_index) {
        Rng dropout_rng = dropout_root.derive(static_cast<uint64_t>(round))
                              .derive(static_cast<uint64_t>(batch_index));
        const int64_t count = std::min(options.batch_size, n - start);
        // This process's shard of the batch (all of it without a communicator).
        const auto [first, local] = comm ? share_of(count, comm->rank(), comm->size())
                                         : std::pair<int64_t, int64_t>{0, count};
        gather(data->inputs, order.data() + start + first, local, x);
        gather(data->targets, order.data() + start + first, local, t);
        double loss;
        bool stop = false;
        try {
          if (comm) {
            Shard shard{
                .first_example = first, .global_batch = count, .stop = observers.stopping()};
            loss = step(x, t, dropout_rng, shard);
            stop = shard.stop;
          } else {
            loss = step(x, t, dropout_rng);
          }
        } catch (CommunicationError&) {
          throw;
        } catch (Error& e) {
          throw e.add_context("round " + std::to_string(round) + ", batch " +
                              std::to_string(batch_index + 1));
        }
        result.batch_losses.push_back(loss);
        loss_sum += loss * count;
        examples += count;
        round_examples += count;
        trained_examples += count;
        result.next =
            start + count < n ? TrainPosition{round, batch_index + 1} : TrainPosition{round + 1, 0};
        // What this round has trained so far, for a stop at any point (a
        // request, or another process gone); empty once the round is whole.
        result.partial =
            start + count < n
                ? PartialRound{loss_sum, examples, seconds_before + seconds_since(round_start)}
                : PartialRound{};
        observers.batch_ended({.round = round,
                               .rounds = options.rounds,
                               .batch = batch_index,
                               .batches = batches_per_round,
                               .examples_done = start + count,
                               .examples = n,
                               .loss = loss,
                               .learning_rate = record.learning_rate,
                               .round_seconds = seconds_since(round_start)});
        // One process asks its observers now; many took their requests into
        // the step's reduction (so an observer's request in batch_ended
        // stops them all after the next batch).
        if (start + count < n && (comm ? stop : observers.stopping())) {
          result.stopped = true;
          break;
        }
      }
      if (round_examples == 0) continue;
      const double seconds = seconds_since(round_start);
      training_seconds += seconds;
      if (result.stopped && result.next.round == round) {
        // Stopped in the middle: the round is not complete, and has no record
        // until a resumed training completes it (its part is in result.partial).
        result.partial.seconds = seconds_before + seconds;
        break;
      }
      record.seconds = seconds_before + seconds;
      record.loss = loss_sum / examples;
      record.examples_per_second = examples / std::max(record.seconds, 1e-9);
      if (has_validation) {
        // Rank 0 validates; the others take its results.
        double scores[3] = {0, 0, 0};  // loss, accuracy, whether there is one
        if (!comm || comm->rank() == 0) {
          const Evaluation ev = evaluate(net, validation, result.loss);
          scores[0] = ev.loss;
          scores[1] = ev.accuracy.value_or(0);
          scores[2] = ev.accuracy ? 1 : 0;
        }
        if (comm) comm->broadcast(scores, sizeof(scores), 0);
        record.validation_loss = scores[0];
        if (scores[2] > 0) record.validation_accuracy = scores[1];
        observers.validation_done(record);
      }
      if (!result.diverged_round && loss_diverged(result.batch_losses.front(), record.loss))
        result.diverged_round = round;
      result.rounds.push_back(record);
      observers.round_ended(record);
      // Every process stops after the same round.
      if (any_of(comm, observers.stopping())) result.stopped = true;
    }
  } catch (CommunicationError& e) {
    result.stopped = true;
    result.communication_error = e.what();
  }
  result.seconds = seconds_since(start);
  result.examples_per_second = trained_examples / std::max(training_seconds, 1e-9);
  observers.training_ended(result);
  return result;
}

namespace {

std::string significant(double v, int digits = 6) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.*g", digits, v);
  return text;
}

}  // namespace

bool loss_diverged(double start_loss, double round_loss) {
  return start_loss > 0 && round_loss > kDivergenceFactor * start_loss;
}

std::string divergence_warning(const RoundRecord& round, double start_loss) {
  return "warning: round " + std::to_string(round.round) + ": loss " + significant(round.loss) +
         " is " + significant(round.loss / start_loss, 3) + " times the first batch's (" +
         significant(start_loss) +
         "); the learning rate is likely too large: try a smaller one (--learning-rate)";
}

}  // namespace strata
