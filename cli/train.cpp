// strata train NET --data DATA -o OUT: NetTrain from the command line, with a
// summary at the end and, on request, the loss plot.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/datasets.hpp"
#include "cli/files.hpp"
#include "cli/validators.hpp"
#include "core/error.hpp"
#include "serialization/atomic_file.hpp"
#include "serialization/checkpoint.hpp"
#include "serialization/net_json.hpp"
#include "train/loss_plot.hpp"
#include "train/mpi_communicator.hpp"
#include "train/net_train.hpp"
#include "train/optimizer.hpp"
#include "train/schedule.hpp"

namespace strata::cli {

namespace {

struct TrainArgs {
  std::string net;
  DataFiles data;
  DataFiles validation{"", "", "--validation", "--validation-targets"};
  std::string output;
  std::string loss_plot;
  int rounds = 10;
  int64_t batch_size = 64;
  std::string method = "Adam";
  double learning_rate = 0;
  double momentum = 0;
  double l2 = 0;
  double gradient_clipping = 0;
  std::string schedule = "Constant";
  int64_t step_size = 0;
  double gamma = 0.1;
  std::string loss;
  uint64_t seed = 0;
  bool no_shuffle = false;
  double validation_split = 0;
  double input_scale = 1;
  bool quiet = false;
  std::string checkpoint;
  std::string resume;
  std::string multipliers;  // --learning-rate-multipliers
  std::string freeze;       // --freeze
  bool allow_other_data = false;
};

// Which of the options with no usable default were given.
struct Given {
  CLI::Option* learning_rate;
  CLI::Option* momentum;
  CLI::Option* l2;
  CLI::Option* gradient_clipping;
  CLI::Option* step_size;
  CLI::Option* gamma;
  CLI::Option* validation_split;
  CLI::Option* rounds;
  // Settings a checkpoint carries, which --resume takes from it.
  std::vector<CLI::Option*> resumable;
};

// Set by SIGINT/SIGTERM while training; NetTrain stops after the batch.
std::atomic<bool> g_stop{false};
std::atomic<int> g_signals{0};
static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free);

// The first signal stops training, which then saves its state; a second one
// (a double Ctrl-C) waits for that save; a third exits at once, removing the
// temporary file of a write under way.
extern "C" void on_stop_signal(int) {
  g_stop.store(true);
  if (g_signals.fetch_add(1) + 1 >= 3) {
    remove_pending_temporary();
    ::_exit(130);
  }
}

// Installs the stop handler for the lifetime of the object: training and
// the writes after it (the checkpoint of an interrupted training, the net).
class StopOnSignal {
 public:
  StopOnSignal() {
    g_stop = false;
    g_signals = 0;
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
  }
  ~StopOnSignal() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

// The settings of a training that a checkpoint keeps, so that --resume
// continues it exactly.
nlohmann::json settings_of(const TrainArgs& a, double initial_rate, LossFunction loss,
                           const Dataset& data) {
  return {{"rounds", a.rounds},
          {"data", {{"examples", data.size()}, {"fingerprint", data_fingerprint(data)}}},
          {"batch_size", a.batch_size},
          {"schedule", a.schedule},
          {"step_size", a.step_size},
          {"gamma", a.gamma},
          {"initial_rate", initial_rate},
          {"loss", std::string(loss_function_name(loss))},
          {"shuffle", !a.no_shuffle},
          {"validation_split", a.validation_split},
          {"input_scale", a.input_scale},
          {"learning_rate_multipliers", a.multipliers},
          {"freeze", a.freeze},
          {"net", a.net}};
}

// Every setting is checked as the command line's option would be, so that an
// edited checkpoint is refused by name.
void apply_settings(TrainArgs& a, const nlohmann::json& s, const std::string& file) {
  if (!s.contains("rounds") || !s.contains("net"))
    throw Error(file +
                ": the checkpoint has no strata train settings (was it written by "
                "strata train --checkpoint?)");
  auto fail = [&](const char* key, const std::string& expected) -> Error {
    const std::string got = s.contains(key) ? s[key].dump() : std::string("nothing");
    return Error(file + ": settings." + key + ": expected " + expected + ", got " +
                 (got.size() > 40 ? got.substr(0, 40) + "..." : got));
  };
  auto integer = [&](const char* key, int64_t hi) {
    if (!s.contains(key) || !s[key].is_number_integer() || s[key].get<int64_t>() < 1 ||
        (s[key].is_number_unsigned() && s[key].get<uint64_t>() > static_cast<uint64_t>(hi)) ||
        s[key].get<int64_t>() > hi)
      throw fail(key, "an integer from 1 to " + std::to_string(hi));
    return s[key].get<int64_t>();
  };
  auto number = [&](const char* key, double lo, double hi, const char* expected) {
    if (!s.contains(key) || !s[key].is_number() || !(s[key].get<double>() >= lo) ||
        !(s[key].get<double>() <= hi))
      throw fail(key, expected);
    return s[key].get<double>();
  };
  auto text = [&](const char* key, bool required) {
    if (!s.contains(key) && !required) return std::string();
    if (!s.contains(key) || !s[key].is_string()) throw fail(key, "a string");
    return s[key].get<std::string>();
  };
  a.rounds = static_cast<int>(integer("rounds", std::numeric_limits<int>::max() - 1));
  a.batch_size = integer("batch_size", std::numeric_limits<int32_t>::max());
  a.schedule = text("schedule", true);
  try {
    parse_schedule_kind(a.schedule);
  } catch (Error& e) {
    throw e.add_context(file + ": settings.schedule");
  }
  a.step_size = s.contains("step_size") && s["step_size"] == 0
                    ? 0
                    : integer("step_size", std::numeric_limits<int32_t>::max());
  a.gamma = number("gamma", 1e-300, 1e300, "a positive number");
  a.loss = text("loss", true);
  try {
    parse_loss_function(a.loss);
  } catch (Error& e) {
    throw e.add_context(file + ": settings.loss");
  }
  if (s.contains("initial_rate")) number("initial_rate", 0, 1e300, "a finite number of 0 or more");
  if (!s.contains("shuffle") || !s["shuffle"].is_boolean()) throw fail("shuffle", "true or false");
  a.no_shuffle = !s["shuffle"].get<bool>();
  a.validation_split = number("validation_split", 0, 0.999999, "a fraction from 0 to 1");
  a.input_scale = number("input_scale", -1e300, 1e300, "a finite number");
  a.net = text("net", true);
  // Absent in checkpoints from before freezing existed.
  a.multipliers = text("learning_rate_multipliers", false);
  a.freeze = text("freeze", false);
}

// The optimizer's state must be that of the arrays this training updates.
void check_optimizer_state(const Layer& net, const Optimizer& optimizer,
                           const LearningRateMultipliers& rules, const std::string& file) {
  const std::vector<double> multipliers =
      rules.empty() ? std::vector<double>{} : resolve_learning_rate_multipliers(net, rules);
  const auto refs = net.all_arrays();
  std::vector<std::pair<std::string, Dims>> trained;
  for (size_t i = 0; i < refs.size(); ++i)
    if (refs[i].layer->arrays()[refs[i].index].trainable &&
        (multipliers.empty() || multipliers[i] != 0))
      trained.emplace_back(refs[i].path, refs[i].layer->arrays()[refs[i].index].value->shape());
  for (const auto& [name, t] : optimizer.state().tensors) {
    const size_t index = std::stoul(name.substr(0, name.find('.')));  // checked by set_state
    if (index >= trained.size())
      throw Error(file + ": optimizer.tensors." + name + ": the net trains " +
                  std::to_string(trained.size()) + " arrays, so there is no array " +
                  std::to_string(index) + " (the optimizer state is another net's)");
    if (t.shape() != trained[index].second)
      throw Error(file + ": optimizer.tensors." + name + ": shape " + to_string(t.shape()) +
                  ", but array " + std::to_string(index) + ", " + trained[index].first +
                  ", has shape " + to_string(trained[index].second) +
                  " (the optimizer state is another net's)");
  }
}

// The data given to --resume must be the data trained on.
void check_same_data(const nlohmann::json& settings, const Dataset& data, const TrainArgs& args) {
  const std::string fingerprint = data_fingerprint(data);
  if (!settings.contains("data")) {
    std::cerr << "strata: warning: " << args.resume
              << " was written by an older strata, without a fingerprint of its training "
                 "data: that "
              << args.data.data << " is the same cannot be checked\n";
    return;
  }
  const nlohmann::json& d = settings["data"];
  if (!d.is_object() || !d.contains("fingerprint") || !d["fingerprint"].is_string() ||
      !d.contains("examples") || !d["examples"].is_number_integer())
    throw Error(args.resume + ": settings.data: expected {\"examples\", \"fingerprint\"}, got " +
                d.dump().substr(0, 60));
  if (d["fingerprint"] == fingerprint && d["examples"] == data.size()) return;
  const std::string what =
      args.resume + " was trained on other data (" + std::to_string(d["examples"].get<int64_t>()) +
      " examples, fingerprint " + d["fingerprint"].get<std::string>() + ") than " + args.data.data +
      " (" + std::to_string(data.size()) + " examples, fingerprint " + fingerprint + ")";
  if (!args.allow_other_data)
    throw Error("--data: " + what + "; give the same data, or --allow-other-data");
  std::cerr << "strata: warning: " << what << "; continuing (--allow-other-data)\n";
}

// --freeze A,B means A=0,B=0, and comes before --learning-rate-multipliers
// (the first match wins).
LearningRateMultipliers multipliers_of(const TrainArgs& a) {
  LearningRateMultipliers rules;
  try {
    if (!a.freeze.empty()) {
      std::string text;  // "A,B" as "A=0,B=0"
      for (char c : a.freeze)
        text += c == ',' ? std::string("=0,") : std::string(1, c);
      for (auto& rule : parse_learning_rate_multipliers(text + "=0"))
        rules.push_back(std::move(rule));
    }
  } catch (Error& e) {
    throw e.add_context("--freeze");
  }
  try {
    if (!a.multipliers.empty())
      for (auto& rule : parse_learning_rate_multipliers(a.multipliers))
        rules.push_back(std::move(rule));
  } catch (Error& e) {
    throw e.add_context("--learning-rate-multipliers");
  }
  return rules;
}

std::string format(const char* pattern, double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, pattern, v);
  return buffer;
}

std::unique_ptr<Optimizer> make_method(const TrainArgs& args, const Given& given) {
  std::string method = args.method;
  std::transform(method.begin(), method.end(), method.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  std::unique_ptr<Optimizer> optimizer;
  try {
    optimizer = make_optimizer(method, nullptr);
  } catch (Error& e) {
    throw e.add_context("--method");
  }
  // Each option set on its own, so that an error names the command-line option.
  auto set = [&](CLI::Option* option, const char* key, double value) {
    if (!option->count()) return;
    try {
      optimizer->set_option(key, value);
    } catch (Error& e) {
      throw e.add_context(option->get_name());
    }
  };
  if (given.momentum->count() && method != "SGD")
    throw Error("--momentum: applies to --method SGD only");
  set(given.learning_rate, "LearningRate", args.learning_rate);
  set(given.momentum, "Momentum", args.momentum);
  set(given.l2, "L2Regularization", args.l2);
  set(given.gradient_clipping, "GradientClipping", args.gradient_clipping);
  return optimizer;
}

RoundSchedule make_schedule(const TrainArgs& args, const Given& given, double rate, bool resuming) {
  ScheduleKind kind;
  try {
    kind = parse_schedule_kind(args.schedule);
  } catch (Error& e) {
    throw e.add_context("--schedule");
  }
  if (kind != ScheduleKind::Step && (given.step_size->count() || given.gamma->count()))
    throw Error(std::string(given.step_size->count() ? "--step-size" : "--gamma") +
                ": applies to --schedule Step only");
  if (kind == ScheduleKind::Constant) return {};
  LearningRateSchedule schedule = LearningRateSchedule::constant(rate);
  if (kind == ScheduleKind::Step) {
    if (!given.step_size->count() && !resuming)
      throw Error(
          "--schedule Step: needs --step-size ROUNDS (the rate is multiplied by "
          "--gamma every ROUNDS rounds)");
    schedule = LearningRateSchedule::step(rate, args.step_size, args.gamma);
  } else {
    schedule = LearningRateSchedule::cosine(rate, args.rounds);
  }
  return schedule;
}

// What a training needs, read and checked before it starts.
struct Job {
  std::unique_ptr<Optimizer> optimizer;
  std::unique_ptr<Layer> net;
  std::vector<RoundRecord> history;
  TrainOptions options;
  nlohmann::json resumed_settings;
  double initial_rate = 0;
  LossFunction loss = LossFunction::MeanSquared;
  Dataset data;
  nlohmann::json settings;
};

// Reads the net (or the checkpoint) and the data, and checks the options.
// Only the process that writes (`writes`) checks that the outputs can be
// written.
Job prepare(TrainArgs& args, const Given& given, bool writes) {
  // Everything that can be checked is checked before training starts.
  if (args.net.empty() == args.resume.empty())
    throw Error(args.net.empty() ? "give the net file NET, or --resume CHECKPOINT"
                                 : "give either NET or --resume CHECKPOINT, not both (a "
                                   "checkpoint holds its net)");
  Job job;
  std::unique_ptr<Optimizer>& optimizer = job.optimizer;
  std::unique_ptr<Layer>& net = job.net;
  std::vector<RoundRecord>& history = job.history;
  TrainOptions& options = job.options;
  double& initial_rate = job.initial_rate;
  if (!args.resume.empty()) {
    for (CLI::Option* o : given.resumable)
      if (o->count())
        throw Error(o->get_name() +
                    ": with --resume the training's settings come from the checkpoint");
    Checkpoint ck = load_checkpoint(args.resume);
    const int wanted = args.rounds;
    apply_settings(args, ck.settings, args.resume);
    job.resumed_settings = ck.settings;
    const int done = ck.position.round - 1;  // complete rounds
    if (given.rounds->count() && wanted != args.rounds) {
      // Extending (or shortening) continues the same training: the rounds
      // to come see the same shuffles and rates as in one run of `wanted`
      // rounds. A Cosine schedule's rates depend on the total, so that the
      // rounds already trained would have had other rates: refused.
      if (wanted <= done)
        throw Error("--rounds " + std::to_string(wanted) + ": " + args.resume + " has " +
                    std::to_string(done) + " rounds trained already; give more to continue");
      if (args.schedule == "Cosine")
        throw Error("--rounds " + std::to_string(wanted) + ": " + args.resume +
                    " decays the learning rate over " + std::to_string(args.rounds) +
                    " rounds (--schedule Cosine), which more rounds would change; its training "
                    "cannot be extended");
      args.rounds = wanted;
    }
    if (ck.position.round > args.rounds + 1 ||
        (ck.position.round == args.rounds + 1 && ck.position.batch > 0))
      throw Error(args.resume + ": position: round " + std::to_string(ck.position.round) +
                  ", batch " + std::to_string(ck.position.batch) +
                  " is past the end of the training (" + std::to_string(args.rounds) + " rounds)");
    if (ck.position.round > args.rounds)
      throw Error(args.resume + ": this training is complete (" + std::to_string(args.rounds) +
                  " rounds); its net is in the checkpoint, or continue with --rounds N (more "
                  "than " +
                  std::to_string(args.rounds) + ")");
    initial_rate = ck.settings.value("initial_rate", ck.optimizer->learning_rate());
    optimizer = std::move(ck.optimizer);
    net = std::move(ck.net);
    history = std::move(ck.history);
    options.start = ck.position;
    options.start_partial = ck.partial;
    args.seed = ck.seed;
  } else {
    optimizer = make_method(args, given);
    initial_rate = optimizer->learning_rate();
  }
  options.rounds = args.rounds;
  options.batch_size = args.batch_size;
  options.schedule = make_schedule(args, given, initial_rate, !args.resume.empty());
  options.seed = args.seed;
  options.shuffle = !args.no_shuffle;
  options.quiet = args.quiet;
  if (!args.resume.empty()) {
    options.validation_split = args.validation_split;
  } else if (given.validation_split->count()) {
    if (!(args.validation_split > 0 && args.validation_split < 1))
      throw Error("--validation-split: expected a fraction between 0 and 1, got " +
                  format("%g", args.validation_split));
    options.validation_split = args.validation_split;
  }
  if (!args.validation.targets.empty() && args.validation.data.empty())
    throw Error("--validation-targets: needs --validation FILE (the inputs)");
  // --checkpoint may be --resume: the training goes on saving where it was.
  const std::vector<FileRole> outputs{
      {"-o", args.output}, {"--loss-plot", args.loss_plot}, {"--checkpoint", args.checkpoint}};
  check_distinct_files({{"NET", args.resume.empty() ? args.net : ""},
                        {"--data", args.data.data},
                        {"--targets", args.data.targets},
                        {"--validation", args.validation.data},
                        {"--validation-targets", args.validation.targets}},
                       outputs);
  check_distinct_files({{"--resume", args.resume}}, {outputs[0], outputs[1]});
  if (writes) {
    check_writable(args.output);
    if (!args.loss_plot.empty()) check_writable(args.loss_plot);
    if (!args.checkpoint.empty()) check_writable(args.checkpoint);
  }

  if (!net) net = load_net_file(args.net);
  LossFunction& loss = job.loss;
  loss = default_loss(*net);
  if (!args.loss.empty()) {
    try {
      loss = parse_loss_function(args.loss);
    } catch (Error& e) {
      throw e.add_context("--loss");
    }
  }
  options.loss = loss;
  options.learning_rate_multipliers = multipliers_of(args);
  auto read = [&](const DataFiles& files) {
    try {
      Dataset d = read_dataset(*net, files, args.input_scale);
      check_targets(*net, d, loss, files);
      return d;
    } catch (Error& e) {
      // The data may be right and the checkpoint's net not.
      if (!args.resume.empty()) throw e.add_context("with the net of " + args.resume);
      throw;
    }
  };
  job.data = read(args.data);
  if (!args.validation.data.empty()) options.validation = read(args.validation);
  if (!args.resume.empty()) {
    check_same_data(job.resumed_settings, job.data, args);
    check_optimizer_state(*net, *optimizer, options.learning_rate_multipliers, args.resume);
    const auto held = static_cast<int64_t>(std::floor(options.validation_split * job.data.size()));
    const int64_t batches = (job.data.size() - held + args.batch_size - 1) / args.batch_size;
    if (options.start.batch >= batches)
      throw Error(args.resume + ": position: batch " + std::to_string(options.start.batch) +
                  " is past the end of round " + std::to_string(options.start.round) + " (" +
                  std::to_string(batches) + " batches of " + std::to_string(args.batch_size) +
                  " examples)");
  }

  job.settings = settings_of(args, initial_rate, loss, job.data);
  return job;
}

// The number of processes an MPI launcher started, from its environment (0
// when none did).
int launched_processes() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* v = std::getenv(name)) return std::atoi(v);
  return launched_by_mpi() ? 1 : 0;
}

// Data-parallel under an MPI launcher (mpirun -np 4 strata train …): the
// processes train together, and rank 0 alone reports and writes.
std::unique_ptr<MpiCommunicator> start_mpi() {
  const int processes = launched_processes();
  if (processes == 0) return nullptr;
  if (!mpi_available()) {
    if (processes == 1) return nullptr;
    throw Error("started by an MPI launcher with " + std::to_string(processes) +
                " processes, but this strata was built without MPI (each would train alone): "
                "build it with libopenmpi-dev installed (make deps; CMake option STRATA_MPI)");
  }
  return std::make_unique<MpiCommunicator>();
}

// The processes agree that each of them is ready to train: one that failed
// (a file it cannot read) would otherwise leave the others waiting for it.
// The lowest failing rank reports its error, the others exit quietly.
void agree_ready(Communicator& comm, const std::optional<Error>& failure) {
  std::vector<double> failed(static_cast<size_t>(comm.size()), 0.0);
  if (failure) failed[static_cast<size_t>(comm.rank())] = 1;
  comm.allreduce_sum(failed.data(), comm.size());
  const auto first = std::find_if(failed.begin(), failed.end(), [](double f) { return f > 0; });
  if (first == failed.end()) return;
  if (first - failed.begin() != comm.rank()) throw Quiet{1};
  Error e = *failure;
  if (comm.rank() != 0) e.add_context("rank " + std::to_string(comm.rank()));
  throw e;
}

void train(TrainArgs args, const Given& given, MpiCommunicator* comm) {
  const int rank = comm ? comm->rank() : 0;
  const bool writes = rank == 0;
  Job job;
  if (comm) {
    std::optional<Error> failure;
    try {
      job = prepare(args, given, writes);
    } catch (Error& e) {
      failure = e;
    }
    agree_ready(*comm, failure);
  } else {
    job = prepare(args, given, writes);
  }
  std::unique_ptr<Optimizer>& optimizer = job.optimizer;
  std::unique_ptr<Layer>& net = job.net;
  std::vector<RoundRecord>& history = job.history;
  TrainOptions& options = job.options;
  const Dataset& data = job.data;
  const nlohmann::json& settings = job.settings;
  if (comm) {
    options.communicator = comm;
    options.quiet = options.quiet || !writes;
    comm->abandon_after_stop(&g_stop);
  }
  // Rank 0 alone keeps the checkpoint (and its history file).
  std::optional<CheckpointWriter> checkpoints;
  if (!args.checkpoint.empty() && writes) checkpoints.emplace(args.checkpoint, history);
  options.on_round = [&](const RoundRecord& record) {
    history.push_back(record);
    if (checkpoints) checkpoints->save_round(*net, *optimizer, record, args.seed, settings);
    return true;
  };
  options.stop = &g_stop;
  TrainResult result;
  // Signals stop training, and wait for the writes after it.
  StopOnSignal stop_on_signal;
  // Where the net comes from, for errors: the net file or the checkpoint.
  const std::string& net_file = args.resume.empty() ? args.net : args.resume;
  try {
    result = NetTrain(*net, data, options, *optimizer);
  } catch (Error& e) {
    e.add_context(net_file);
    // Every process fails alike, but for one of its own shard (which names
    // its rank): rank 0 reports.
    if (!writes &&
        std::string(e.what()).find("rank " + std::to_string(rank) + ":") == std::string::npos)
      throw Quiet{1};
    throw e;
  }
  const std::string resume_file =
      args.checkpoint.empty() ? args.output + ".checkpoint.json" : args.checkpoint;
  const std::string resume_command =
      (comm ? "mpirun -np " + std::to_string(comm->size()) + " " : std::string()) +
      "strata train --resume " + resume_file + " --data ... -o " + args.output;
  if (!result.communication_error.empty()) {
    // Another process is gone. Every survivor saves its state (all of them
    // hold the same, and rank 0 may be the one that died), then fails.
    if (checkpoints)
      checkpoints->save_position(*net, *optimizer, result.next, result.partial, args.seed,
                                 settings);
    else
      save_checkpoint(resume_file, *net, *optimizer, result.next, args.seed, history, settings,
                      result.partial);
    throw Error(result.communication_error + "; saved the training state (round " +
                std::to_string(result.next.round) + ", batch " +
                std::to_string(result.next.batch + 1) + ") to " + resume_file +
                "; continue with: " + resume_command);
  }
  if (result.stopped && result.next.round <= args.rounds) {
    // Interrupted: keep the last complete state, and say how to go on.
    if (!writes) throw Quiet{130};
    if (checkpoints)  // its history file holds the rounds already
      checkpoints->save_position(*net, *optimizer, result.next, result.partial, args.seed,
                                 settings);
    else
      save_checkpoint(resume_file, *net, *optimizer, result.next, args.seed, history, settings,
                      result.partial);
    throw Interrupted{"interrupted in round " + std::to_string(result.next.round) +
                      " before batch " + std::to_string(result.next.batch + 1) +
                      "; saved the training state to " + resume_file +
                      "; continue with: " + resume_command};
  }
  // Rank 0 alone writes and reports.
  if (!writes) return;
  // Without --quiet, the progress lines had the warning already.
  if (args.quiet && result.diverged_round)
    for (const RoundRecord& r : result.rounds)
      if (r.round == result.diverged_round)
        std::cerr << divergence_warning(r, result.batch_losses.front()) << "\n";
  result.rounds = history;  // with the rounds before a --resume
  const std::string plot = args.loss_plot.empty() ? "" : loss_plot_svg(result);
  save_net(args.output, *net);
  if (!args.loss_plot.empty()) write_file_atomically(args.loss_plot, plot);

  if (args.quiet) take_notes();  // not even these
  const RoundRecord& last = result.rounds.back();
  const auto held = static_cast<int64_t>(std::floor(options.validation_split * data.size()));
  std::cout << "trained " << args.net << " for " << result.rounds.size() << " rounds on "
            << data.size() - held << " examples";
  if (held) std::cout << " (" << held << " more held out for validation)";
  std::cout << "\nfinal loss " << format("%.6g", last.loss) << " ("
            << loss_function_name(result.loss) << ")";
  if (last.validation_loss)
    std::cout << "; validation loss " << format("%.6g", *last.validation_loss);
  if (last.validation_accuracy)
    std::cout << ", accuracy " << format("%.2f", 100 * *last.validation_accuracy) << "%";
  std::cout << "\n"
            << format("%.0f", result.examples_per_second) << " examples/s, "
            << format("%.2f", result.seconds) << " s";
  if (comm) std::cout << " on " << comm->size() << " processes";
  std::cout << "\n";
  std::cout << "wrote " << args.output;
  if (!args.loss_plot.empty()) std::cout << " and " << args.loss_plot;
  std::cout << "\n";
}

void run_train(const TrainArgs& args, const Given& given) {
  std::unique_ptr<MpiCommunicator> comm = start_mpi();
  if (!comm) return train(args, given, nullptr);
  // Under mpirun the message is printed before MPI is finalized: after
  // SIGTERM mpirun kills the processes a second later, and finalizing may
  // take that long.
  try {
    train(args, given, comm.get());
  } catch (const Interrupted& e) {
    std::cerr << "strata: " << e.message << std::endl;
    throw Quiet{130};
  } catch (const Error& e) {
    std::cerr << "strata: " << e.what() << std::endl;
    throw Quiet{1};
  }
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train a net on a dataset (NetTrain)");
  auto args = std::make_shared<TrainArgs>();
  Given given{};
  cmd->add_option("NET", args->net, "The net file (JSON); not with --resume")->type_name("FILE");
  cmd->add_option("--data", args->data.data, "The training data: .csv, or .npy/.json inputs")
      ->required()
      ->type_name("FILE");
  cmd->add_option("--targets", args->data.targets,
                  "The targets (.npy or .json, batch first) for tensor-file --data")
      ->type_name("FILE");
  cmd->add_option("-o,--output", args->output, "Where to write the trained net (JSON)")
      ->required()
      ->type_name("FILE");
  given.rounds = cmd->add_option("--rounds", args->rounds,
                                 "Training rounds (epochs); with --resume, more than the "
                                 "checkpoint's continue a finished training up to these")
                     ->capture_default_str()
                     ->check(positive_integer());
  cmd->add_option("--batch-size", args->batch_size, "Examples per update")
      ->capture_default_str()
      ->check(positive_integer());
  cmd->add_option("--method", args->method, "The optimizer: SGD or Adam")->capture_default_str();
  given.learning_rate = cmd->add_option("--learning-rate", args->learning_rate,
                                        "The (initial) learning rate [SGD: 0.01, Adam: 0.001]");
  given.momentum = cmd->add_option("--momentum", args->momentum, "SGD's momentum [0]");
  given.l2 = cmd->add_option("--l2", args->l2,
                             "L2 regularization, added to the gradient (PyTorch's "
                             "weight_decay) [0]");
  given.gradient_clipping =
      cmd->add_option("--gradient-clipping", args->gradient_clipping,
                      "Scale the gradients to a global L2 norm of at most this [0: none]");
  cmd->add_option("--schedule", args->schedule,
                  "The learning rate per round: Constant, Step (times --gamma every "
                  "--step-size rounds) or Cosine (down to 0 over --rounds)")
      ->capture_default_str();
  given.step_size =
      cmd->add_option("--step-size", args->step_size, "Rounds between the steps of --schedule Step")
          ->check(positive_integer());
  given.gamma =
      cmd->add_option("--gamma", args->gamma, "The factor of each step of --schedule Step [0.1]")
          ->check(positive_number());
  cmd->add_option("--loss", args->loss,
                  "CrossEntropy or MeanSquared [CrossEntropy for a net ending in SoftmaxLayer, "
                  "else MeanSquared]");
  cmd->add_option("--seed", args->seed,
                  "Seeds initialization, shuffling, dropout and --validation-split")
      ->capture_default_str()
      ->check(non_negative_integer());
  cmd->add_flag("--no-shuffle", args->no_shuffle,
                "Keep the data's order (shuffled every round otherwise)");
  auto* validation = cmd->add_option("--validation", args->validation.data,
                                     "Validation data (.csv, or .npy/.json inputs with "
                                     "--validation-targets), scored after every round")
                         ->type_name("FILE");
  cmd->add_option("--validation-targets", args->validation.targets,
                  "The targets of tensor-file --validation data")
      ->type_name("FILE");
  given.validation_split =
      cmd->add_option("--validation-split", args->validation_split,
                      "Hold out this fraction of --data (a seeded random choice) for validation")
          ->excludes(validation);
  cmd->add_option("--input-scale", args->input_scale,
                  "Multiply every input value by this (e.g. 0.0625 for 0..16 pixels)")
      ->capture_default_str();
  add_csv_header_flags(*cmd, {&args->data, &args->validation});
  cmd->add_flag("--quiet", args->quiet, "No line per round and no progress bar");
  cmd->add_option("--learning-rate-multipliers", args->multipliers,
                  "Scale the learning rate by path: PATTERN=R,... with a layer (conv1), a "
                  "path (block1/norm), a position (3), a prefix (conv*) or _ for the rest; "
                  "the first match wins, the rest get 1; 0 freezes")
      ->type_name("RULES");
  cmd->add_option("--freeze", args->freeze,
                  "Freeze these layers or paths (patterns as above): A,B is A=0,B=0")
      ->type_name("PATTERNS");
  cmd->add_option("--checkpoint", args->checkpoint,
                  "After every round, save the net, the optimizer state and the position "
                  "here (atomically), for --resume; the rounds go to FILE.history-*")
      ->type_name("FILE");
  cmd->add_option("--resume", args->resume,
                  "Continue the training saved in this checkpoint, with its net and settings; "
                  "give the same data")
      ->type_name("FILE");
  cmd->add_flag("--allow-other-data", args->allow_other_data,
                "With --resume: continue on data other than the checkpoint's (by its "
                "fingerprint), with a warning");
  cmd->add_option("--loss-plot", args->loss_plot,
                  "Write the training (and validation) loss per round as an SVG chart")
      ->type_name("FILE");
  cmd->footer(
      "The data is a CSV file, one example a row: the features, reshaped to the net's\n"
      "Input shape, then the target (a class index for CrossEntropy, a number\n"
      "otherwise); a header row is allowed. Or a tensor file of inputs (.npy or .json,\n"
      "batch first) with --targets. Arrays still Automatic are initialized first, with\n"
      "the seed; the same seed and data give a bit-identical net. One line per round\n"
      "goes to standard error, the summary to standard output; the net is written only\n"
      "when training succeeds.\n\n"
      "Examples:\n"
      "  strata train net.json --data iris.csv --validation-split 0.2 --rounds 50 \\\n"
      "      --learning-rate 0.01 -o trained.json --loss-plot loss.svg\n"
      "  strata train digits.json --data train.csv --input-scale 0.0625 --validation test.csv \\\n"
      "      --method SGD --learning-rate 0.1 --momentum 0.9 --schedule Cosine -o trained.json\n"
      "  strata train net.json --data x.npy --targets y.npy --loss MeanSquared -o trained.json\n"
      "  strata train net.json --data train.csv --checkpoint ck.json -o trained.json\n"
      "  strata train --resume ck.json --data train.csv -o trained.json\n"
      "  strata train --resume ck.json --rounds 40 --data train.csv -o longer.json\n"
      "  strata train net.json --data few.csv --freeze 'conv*,norm*' -o tuned.json\n"
      "  strata train net.json --data few.csv --learning-rate-multipliers 'fc=1,_=0' -o "
      "tuned.json\n\n"
      "SIGINT (Ctrl-C) or SIGTERM stops training after the current batch, saves the\n"
      "state to --checkpoint (or OUT.checkpoint.json) and exits with code 130 (a second\n"
      "signal waits for the save, a third exits at once); --resume then reaches the\n"
      "same net and history as a training that was never stopped, given the same data\n"
      "(checked by its fingerprint).");
  for (const char* name :
       {"--batch-size", "--method", "--learning-rate", "--momentum", "--l2", "--gradient-clipping",
        "--schedule", "--step-size", "--gamma", "--loss", "--seed", "--no-shuffle",
        "--validation-split", "--input-scale", "--learning-rate-multipliers", "--freeze"})
    given.resumable.push_back(cmd->get_option(name));
  cmd->callback([args, given] { run_train(*args, given); });
}

}  // namespace strata::cli
