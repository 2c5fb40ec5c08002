#include "serialization/checkpoint.hpp"

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "serialization/atomic_file.hpp"
#include "serialization/json_document.hpp"
#include "serialization/net_json.hpp"
#include "serialization/tensor_json.hpp"

namespace strata {

namespace {

using nlohmann::json;

json optional_number(const std::optional<double>& v) {
  return v ? json(*v) : json(nullptr);
}

std::optional<double> number_or_null(const json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  return j[key].get<double>();
}

}  // namespace

void save_checkpoint(const std::filesystem::path& path, const Layer& net,
                     const Optimizer& optimizer, TrainPosition position, uint64_t seed,
                     const std::vector<RoundRecord>& history, const json& settings) {
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
  doc["seed"] = seed;
  json rounds = json::array();
  for (const auto& r : history)
    rounds.push_back({{"round", r.round},
                      {"loss", r.loss},
                      {"validation_loss", optional_number(r.validation_loss)},
                      {"validation_accuracy", optional_number(r.validation_accuracy)},
                      {"learning_rate", r.learning_rate},
                      {"seconds", r.seconds},
                      {"examples_per_second", r.examples_per_second}});
  doc["history"] = rounds;
  doc["settings"] = settings;
  write_file_atomically(path, doc.dump() + "\n");
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
    const json& o = doc["optimizer"];
    try {
      c.optimizer = make_optimizer(o.at("method").get<std::string>(), o.at("options"));
      OptimizerState state;
      state.method = o.at("method").get<std::string>();
      state.steps = o.at("steps").get<int64_t>();
      for (const auto& [name, t] : o.at("tensors").items())
        state.tensors.emplace_back(name, tensor_from_json(t, "optimizer.tensors." + name));
      c.optimizer->set_state(state);
    } catch (const json::exception& e) {
      throw Error(std::string("optimizer: ") + e.what());
    }
    try {
      c.position = {doc["position"].at("round").get<int>(),
                    doc["position"].at("batch").get<int64_t>()};
      c.seed = doc["seed"].get<uint64_t>();
      for (const auto& r : doc.value("history", json::array())) {
        RoundRecord rec;
        rec.round = r.at("round").get<int>();
        rec.loss = r.at("loss").get<double>();
        rec.validation_loss = number_or_null(r, "validation_loss");
        rec.validation_accuracy = number_or_null(r, "validation_accuracy");
        rec.learning_rate = r.value("learning_rate", 0.0);
        rec.seconds = r.value("seconds", 0.0);
        rec.examples_per_second = r.value("examples_per_second", 0.0);
        c.history.push_back(rec);
      }
    } catch (const json::exception& e) {
      throw Error(std::string("position, seed or history: ") + e.what());
    }
    c.settings = doc.value("settings", json::object());
    return c;
  } catch (Error& e) {
    throw e.add_context(path.string());
  }
}

}  // namespace strata
