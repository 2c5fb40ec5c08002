#include "graph/summary.hpp"

#include <algorithm>
#include <ostream>
#include <sstream>
#include <vector>

namespace strata {

namespace {

struct Row {
  std::string name, type, input, output, arrays, count;
};

std::string ports(const std::vector<Port>& ps) {
  std::string s;
  for (const auto& p : ps) {
    if (!s.empty()) s += ' ';
    s += p.shape.to_string();
  }
  return s;
}

int64_t own_count(const Layer& layer) {
  int64_t n = 0;
  for (const auto& a : layer.arrays())
    if (a.shape.fully_known()) n += a.shape.num_elements();
  return n;
}

void collect(const Layer& layer, const std::string& name, int depth, std::vector<Row>& rows) {
  std::string arrays;
  for (const auto& a : layer.arrays())
    arrays += (arrays.empty() ? "" : ", ") + a.name + " " + a.shape.to_string() +
              (a.value ? "" : " (Automatic)");
  const auto children = layer.children();
  rows.push_back({std::string(2 * depth, ' ') + name, layer.type(), ports(layer.inputs()),
                  ports(layer.outputs()), arrays,
                  children.empty() ? std::to_string(own_count(layer)) : ""});
  for (const auto& [child_name, child] : children)
    collect(*child, child_name, depth + 1, rows);
}

}  // namespace

int64_t parameter_count(const Layer& net) {
  int64_t n = 0;
  for (const auto& ref : net.all_arrays()) {
    const Shape& s = ref.layer->arrays()[ref.index].shape;
    if (s.fully_known()) n += s.num_elements();
  }
  return n;
}

std::string NetSummary(const Layer& net) {
  std::vector<Row> rows{{"name", "type", "input", "output", "arrays", "parameters"}};
  for (const auto& [name, child] : net.children())
    collect(*child, name, 0, rows);
  if (net.children().empty()) collect(net, net.type(), 0, rows);
  size_t w[6] = {};
  for (const auto& r : rows) {
    const std::string* cells[] = {&r.name, &r.type, &r.input, &r.output, &r.arrays, &r.count};
    for (int i = 0; i < 6; ++i)
      w[i] = std::max(w[i], cells[i]->size());
  }
  std::ostringstream out;
  out << net.type() << ": Input " << ports(net.inputs()) << " -> Output " << ports(net.outputs())
      << "\n";
  for (size_t k = 0; k < rows.size(); ++k) {
    const auto& r = rows[k];
    const std::string* cells[] = {&r.name, &r.type, &r.input, &r.output, &r.arrays, &r.count};
    std::string line;
    for (int i = 0; i < 6; ++i) {
      std::string cell = *cells[i];
      if (i == 5)
        cell = std::string(w[i] - cell.size(), ' ') + cell;  // numbers right-aligned
      else
        cell.resize(w[i], ' ');
      line += (i ? "  " : "") + cell;
    }
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    out << line << "\n";
    if (k == 0) out << std::string(line.size(), '-') << "\n";
  }
  const int64_t total = parameter_count(net);
  int64_t trainable = 0;
  for (const auto& ref : net.all_arrays()) {
    const auto& slot = ref.layer->arrays()[ref.index];
    if (slot.trainable && slot.shape.fully_known()) trainable += slot.shape.num_elements();
  }
  out << "total parameters: " << total << " (trainable: " << trainable << ")\n";
  return out.str();
}

std::ostream& operator<<(std::ostream& os, const Layer& net) {
  return os << NetSummary(net);
}

}  // namespace strata
