#include "serialization/checkpoint.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "core/error.hpp"
#include "serialization/atomic_file.hpp"
#include "serialization/json_document.hpp"
#include "serialization/net_json.hpp"
#include "serialization/tensor_json.hpp"

namespace strata {

namespace {

using nlohmann::json;

// A round and round + 1 stay within int.
constexpr int64_t kMaxRound = std::numeric_limits<int>::max() - 1;

json optional_number(const std::optional<double>& v) {
  return v ? json(*v) : json(nullptr);
}

json round_json(const RoundRecord& r) {
  return {{"round", r.round},
          {"loss", r.loss},
          {"validation_loss", optional_number(r.validation_loss)},
          {"validation_accuracy", optional_number(r.validation_accuracy)},
          {"learning_rate", r.learning_rate},
          {"seconds", r.seconds},
          {"examples_per_second", r.examples_per_second}};
}

std::string shown(const json& j) {
  std::string s = j.dump();
  return s.size() > 40 ? s.substr(0, 40) + "..." : s;
}

const json& field(const json& object, const char* key, const std::string& where) {
  if (!object.is_object()) throw Error(where + ": expected an object, got " + shown(object));
  if (!object.contains(key)) throw Error(where + (where.empty() ? "" : ".") + key + ": missing");
  return object[key];
}

std::string path_of(const std::string& where, const char* key) {
  return where.empty() ? std::string(key) : where + "." + key;
}

int64_t integer(const json& object, const char* key, const std::string& where, int64_t lo,
                int64_t hi) {
  const json& v = field(object, key, where);
  const bool ok = (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() >= lo &&
                   v.get<int64_t>() <= hi) ||
                  (v.is_number_unsigned() && v.get<uint64_t>() <= static_cast<uint64_t>(hi) &&
                   static_cast<int64_t>(v.get<uint64_t>()) >= lo);
  if (!ok)
    throw Error(path_of(where, key) + ": expected an integer from " + std::to_string(lo) + " to " +
                std::to_string(hi) + ", got " + shown(v));
  return v.get<int64_t>();
}

double finite(const json& object, const char* key, const std::string& where,
              double lo = -HUGE_VAL) {
  const json& v = field(object, key, where);
  if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < lo)
    throw Error(path_of(where, key) + ": expected a finite number" +
                (lo == 0 ? std::string(" of 0 or more") : std::string()) + ", got " + shown(v));
  return v.get<double>();
}

std::optional<double> finite_or_null(const json& object, const char* key,
                                     const std::string& where) {
  if (!object.contains(key) || object[key].is_null()) return std::nullopt;
  return finite(object, key, where);
}

RoundRecord round_from_json(const json& r, const std::string& where, int expected_round) {
  RoundRecord rec;
  rec.round = static_cast<int>(integer(r, "round", where, 1, kMaxRound));
  if (rec.round != expected_round)
    throw Error(where + ".round: expected round " + std::to_string(expected_round) + ", got " +
                std::to_string(rec.round) + " (the history must hold every round in order)");
  rec.loss = finite(r, "loss", where);
  rec.validation_loss = finite_or_null(r, "validation_loss", where);
  rec.validation_accuracy = finite_or_null(r, "validation_accuracy", where);
  rec.learning_rate = r.contains("learning_rate") ? finite(r, "learning_rate", where) : 0;
  rec.seconds = r.contains("seconds") ? finite(r, "seconds", where, 0) : 0;
  rec.examples_per_second =
      r.contains("examples_per_second") ? finite(r, "examples_per_second", where, 0) : 0;
  return rec;
}

// The first `rounds` lines of a history file beside the checkpoint.
std::vector<RoundRecord> read_history_file(const std::filesystem::path& checkpoint, const json& h) {
  const json& file = field(h, "file", "history");
  if (!file.is_string() || file.get<std::string>().empty() ||
      file.get<std::string>().find('/') != std::string::npos)
    throw Error("history.file: expected the name of a file beside the checkpoint, got " +
                shown(file));
  const int64_t rounds = integer(h, "rounds", "history", 0, kMaxRound);
  const std::filesystem::path path = checkpoint.parent_path() / file.get<std::string>();
  const std::string text = read_file(path);
  std::vector<RoundRecord> history;
  size_t pos = 0;
  while (static_cast<int64_t>(history.size()) < rounds) {
    const size_t newline = text.find('\n', pos);
    if (newline == std::string::npos)
      throw Error("history: " + path.string() + " holds " + std::to_string(history.size()) +
                  " complete rounds, but the checkpoint counts " + std::to_string(rounds) +
                  " (was it cut short or replaced?)");
    const std::string where = path.string() + ": line " + std::to_string(history.size() + 1);
    json line;
    try {
      line = json::parse(text.substr(pos, newline - pos));
    } catch (const json::exception&) {
      throw Error("history: " + where + ": malformed JSON");
    }
    try {
      history.push_back(round_from_json(line, "round", static_cast<int>(history.size()) + 1));
    } catch (Error& e) {
      throw e.add_context("history: " + where);
    }
    pos = newline + 1;
  }
  return history;
}

// Where a net's own arrays may be missing: a checkpoint's net is complete.
void check_complete(const Layer& net) {
  const auto missing = net.missing_arrays();
  if (missing.empty()) return;
  std::string names;
  for (size_t i = 0; i < missing.size() && i < 5; ++i)
    names += (i ? ", " : "") + missing[i];
  if (missing.size() > 5) names += ", ... (" + std::to_string(missing.size()) + " in all)";
  throw Error("net: arrays missing: " + names + " (a checkpoint's net has every array)");
}

void write_all(int fd, std::string_view bytes, const std::filesystem::path& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(path.string() + ": cannot write: " + std::strerror(errno));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

json checkpoint_document(const Layer& net, const Optimizer& optimizer, TrainPosition position,
                         const PartialRound& partial, uint64_t seed, json history,
                         const json& settings) {
  json doc;
  doc["format"] = "strata-checkpoint";
  doc["version"] = 1;
  doc["net"] = net_to_json(net);
  const OptimizerState state = optimizer.state();
  json tensors = json::object();
  for (const auto& [name, t] : state.tensors)
    tensors[name] = tensor_to_json(t, name);
  doc["optimizer"] = {{"method", state.method},
                      {"options", optimizer.options()},
                      {"steps", state.steps},
                      {"tensors", tensors}};
  doc["position"] = {{"round", position.round}, {"batch", position.batch}};
  if (position.batch > 0)
    doc["position"]["partial"] = {{"loss_sum", partial.loss_sum},
                                  {"examples", partial.examples},
                                  {"seconds", partial.seconds}};
  doc["seed"] = seed;
  doc["history"] = std::move(history);
  doc["settings"] = settings.is_null() ? json::object() : settings;
  return doc;
}

}  // namespace

void save_checkpoint(const std::filesystem::path& path, const Layer& net,
                     const Optimizer& optimizer, TrainPosition position, uint64_t seed,
                     const std::vector<RoundRecord>& history, const json& settings,
                     const PartialRound& partial) {
  json rounds = json::array();
  for (const auto& r : history)
    rounds.push_back(round_json(r));
  write_file_atomically(path, checkpoint_document(net, optimizer, position, partial, seed,
                                                  std::move(rounds), settings)
                                      .dump() +
                                  "\n");
}

Checkpoint load_checkpoint(const std::filesystem::path& path) {
  try {
    json doc;
    try {
      doc = parse_json_document(read_file(path));  // refuses NUL bytes, duplicate keys
    } catch (const json::exception& e) {
      throw Error(std::string("malformed JSON: ") + e.what());
    }
    if (!doc.is_object() || doc.value("format", "") != "strata-checkpoint")
      throw Error("not a strata checkpoint: expected \"format\": \"strata-checkpoint\"");
    if (doc.value("version", 0) != 1)
      throw Error("checkpoint version " + doc.value("version", json(nullptr)).dump() +
                  " is not one this strata reads (1)");
    for (const char* key : {"net", "optimizer", "position", "seed"})
      if (!doc.contains(key)) throw Error(std::string("missing \"") + key + "\"");
    Checkpoint c;
    try {
      c.net = net_from_json(doc["net"]);
    } catch (Error& e) {
      throw e.add_context("net");
    }
    check_complete(*c.net);
    const json& o = doc["optimizer"];
    try {
      const json& method = field(o, "method", "optimizer");
      if (!method.is_string()) throw Error("optimizer.method: expected a string");
      const json& options = field(o, "options", "optimizer");
      if (!options.is_object()) throw Error("optimizer.options: expected an object");
      c.optimizer = make_optimizer(method.get<std::string>(), options);
      OptimizerState state;
      state.method = method.get<std::string>();
      state.steps = integer(o, "steps", "optimizer", 0, std::numeric_limits<int64_t>::max());
      const json& tensors = field(o, "tensors", "optimizer");
      if (!tensors.is_object()) throw Error("optimizer.tensors: expected an object");
      for (const auto& [name, t] : tensors.items())
        state.tensors.emplace_back(name, tensor_from_json(t, "optimizer.tensors." + name));
      c.optimizer->set_state(state);
    } catch (const json::exception& e) {
      throw Error(std::string("optimizer: ") + e.what());
    }
    const json& position = doc["position"];
    c.position.round = static_cast<int>(integer(position, "round", "position", 1, kMaxRound));
    c.position.batch =
        integer(position, "batch", "position", 0, std::numeric_limits<int32_t>::max());
    // Checkpoints from before "partial" existed lack it: the resumed round's
    // record then covers only the batches after the position.
    if (c.position.batch > 0 && position.contains("partial")) {
      const json& partial = position["partial"];
      c.partial.loss_sum = finite(partial, "loss_sum", "position.partial", 0);
      c.partial.examples =
          integer(partial, "examples", "position.partial", 1, std::numeric_limits<int64_t>::max());
      c.partial.seconds = finite(partial, "seconds", "position.partial", 0);
    }
    const json& seed = doc["seed"];
    if (!seed.is_number_unsigned() && !(seed.is_number_integer() && seed.get<int64_t>() >= 0))
      throw Error("seed: expected an integer from 0 to 2^64 - 1, got " + shown(seed));
    c.seed = seed.get<uint64_t>();
    const json& history = doc.contains("history") ? doc["history"] : json::array();
    if (history.is_object()) {
      c.history = read_history_file(path, history);
    } else if (history.is_array()) {
      for (size_t i = 0; i < history.size(); ++i)
        c.history.push_back(round_from_json(history[i], "history[" + std::to_string(i) + "]",
                                            static_cast<int>(i) + 1));
    } else {
      throw Error("history: expected a list of rounds or {\"file\", \"rounds\"}, got " +
                  shown(history));
    }
    if (static_cast<int64_t>(c.history.size()) != c.position.round - 1)
      throw Error("history: " + std::to_string(c.history.size()) + " rounds, but position.round " +
                  std::to_string(c.position.round) + " needs the " +
                  std::to_string(c.position.round - 1) + " before it");
    c.settings = doc.value("settings", json::object());
    if (!c.settings.is_object()) throw Error("settings: expected an object");
    return c;
  } catch (Error& e) {
    throw e.add_context(path.string());
  }
}

CheckpointWriter::CheckpointWriter(std::filesystem::path path,
                                   const std::vector<RoundRecord>& history)
    : path_(std::move(path)) {
  std::random_device random;
  std::ostringstream name;
  name << path_.filename().string() << ".history-" << std::hex
       << (static_cast<uint64_t>(random()) << 32 | random());
  history_ = path_.parent_path() / name.str();
  std::string lines;
  for (const auto& r : history)
    lines += round_json(r).dump() + "\n";
  write_file_atomically(history_, lines);
  rounds_ = static_cast<int64_t>(history.size());
}

CheckpointWriter::~CheckpointWriter() {
  std::error_code ec;
  if (!cleaned_) std::filesystem::remove(history_, ec);
}

void CheckpointWriter::save_round(const Layer& net, const Optimizer& optimizer,
                                  const RoundRecord& round, uint64_t seed, const json& settings) {
  // The round goes to disk before the checkpoint that counts it.
  const int fd = ::open(history_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0)
    throw Error(history_.string() + ": cannot open for appending: " + std::strerror(errno));
  try {
    write_all(fd, round_json(round).dump() + "\n", history_);
    if (::fsync(fd) != 0)
      throw Error(history_.string() + ": cannot flush to disk: " + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  ++rounds_;
  write(net, optimizer, {round.round + 1, 0}, {}, seed, settings);
}

void CheckpointWriter::save_position(const Layer& net, const Optimizer& optimizer,
                                     TrainPosition position, const PartialRound& partial,
                                     uint64_t seed, const json& settings) {
  write(net, optimizer, position, partial, seed, settings);
}

void CheckpointWriter::write(const Layer& net, const Optimizer& optimizer, TrainPosition position,
                             const PartialRound& partial, uint64_t seed, const json& settings) {
  const json history = {{"file", history_.filename().string()}, {"rounds", rounds_}};
  AtomicFileWriter writer(path_);
  writer.write(
      checkpoint_document(net, optimizer, position, partial, seed, history, settings).dump() +
      "\n");
  // After a crash the checkpoint before is as good: its rounds are in the
  // history file still. But the first one must be on disk before the older
  // history files it replaces are removed.
  writer.commit(/*sync_directory=*/!cleaned_);
  if (cleaned_) return;
  // The checkpoint now refers to this training's file: those of trainings
  // before (which the replaced checkpoint may have referred to) can go.
  cleaned_ = true;
  const std::string prefix = path_.filename().string() + ".history-";
  std::error_code ec;
  const auto dir = path_.parent_path().empty() ? std::filesystem::path(".") : path_.parent_path();
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(prefix) && name != history_.filename().string())
      std::filesystem::remove(entry.path(), ec);
  }
}

}  // namespace strata
