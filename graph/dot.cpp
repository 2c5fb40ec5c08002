#include "graph/dot.hpp"

#include <sstream>

#include "graph/net.hpp"

namespace strata {

namespace {

// A DOT string literal.
std::string quoted(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '\n') {
      q += "\\n";  // a line break in a label
      continue;
    }
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

std::string join_path(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "/" + name;
}

class DotWriter {
 public:
  std::string write(const Layer& net) {
    out_ << "digraph net {\n"
         << "  rankdir=TB;\n"
         << "  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=11];\n"
         << "  edge [fontname=\"Helvetica\", fontsize=9];\n";
    if (const auto* n = dynamic_cast<const Net*>(&net)) {
      ports(*n, "", 1);
      body(*n, "", 1);
    } else {
      // A layer alone: its ports around one box.
      out_ << "  " << quoted("#Input") << " [shape=ellipse, class=port, label=\"Input\"];\n";
      layer_node(net, "", net.type(), 1);
      out_ << "  " << quoted("#Input") << " -> " << quoted(net.type()) << ";\n";
      out_ << "  " << quoted("#Output") << " [shape=ellipse, class=port, label=\"Output\"];\n";
      out_ << "  " << quoted(net.type()) << " -> " << quoted("#Output") << ";\n";
    }
    out_ << "}\n";
    return out_.str();
  }

 private:
  std::string indent(int depth) const { return std::string(2 * static_cast<size_t>(depth), ' '); }

  // The net's own ports, as ellipses named path#Port.
  void ports(const Net& net, const std::string& path, int depth) {
    for (const auto& p : net.inputs())
      out_ << indent(depth) << quoted(path + "#" + p.name)
           << " [shape=ellipse, class=port, label=" << quoted(p.name + "\n" + p.shape.to_string())
           << "];\n";
    for (const auto& p : net.outputs())
      out_ << indent(depth) << quoted(path + "#" + p.name)
           << " [shape=ellipse, class=port, label=" << quoted(p.name + "\n" + p.shape.to_string())
           << "];\n";
  }

  void layer_node(const Layer& l, const std::string& name, const std::string& id, int depth) {
    // Appended piece by piece (GCC 12 warns falsely on `"…" + std::string&&`).
    std::string label = name.empty() ? std::string() : name + "\n";
    label += l.type();
    label += '\n';
    for (size_t i = 0; i < l.outputs().size(); ++i) {
      if (i) label += ' ';
      label += l.outputs()[i].shape.to_string();
    }
    out_ << indent(depth) << quoted(id) << " [class=layer, label=" << quoted(label) << "];\n";
  }

  // Where an edge into layer k's input `port` of `net` starts.
  std::string from(const Net& net, const std::string& path, const Net::Source& s) {
    if (s.node == Net::kNetPort) return path + "#" + net.inputs()[s.port].name;
    const Layer& l = net.layer(s.node);
    const std::string id = join_path(path, net.layer_name(s.node));
    if (const auto* inner = dynamic_cast<const Net*>(&l))
      return id + "#" + inner->outputs()[s.port].name;
    return id;
  }

  std::string edge_label(const Layer& l, size_t port, bool out) {
    const auto& ports = out ? l.outputs() : l.inputs();
    return ports.size() > 1 ? ports[port].name : "";
  }

  void body(const Net& net, const std::string& path, int depth) {
    for (size_t k = 0; k < net.size(); ++k) {
      const Layer& l = net.layer(k);
      const std::string id = join_path(path, net.layer_name(k));
      if (const auto* inner = dynamic_cast<const Net*>(&l)) {
        out_ << indent(depth) << "subgraph " << quoted("cluster_" + id) << " {\n"
             << indent(depth + 1) << "label=" << quoted(net.layer_name(k) + " (" + l.type() + ")")
             << ";\n"
             << indent(depth + 1) << "style=dashed;\n";
        ports(*inner, id, depth + 1);
        body(*inner, id, depth + 1);
        out_ << indent(depth) << "}\n";
      } else {
        layer_node(l, net.layer_name(k), id, depth);
      }
    }
    // One edge per connection: into every input port of every layer, and
    // into every output port of the net.
    for (size_t k = 0; k < net.size(); ++k) {
      const Layer& l = net.layer(k);
      const std::string id = join_path(path, net.layer_name(k));
      const auto* inner = dynamic_cast<const Net*>(&l);
      for (size_t p = 0; p < l.inputs().size(); ++p) {
        const std::string to = inner ? id + "#" + inner->inputs()[p].name : id;
        edge(from(net, path, net.input_source(k, p)), to, inner ? "" : edge_label(l, p, false),
             depth);
      }
    }
    for (size_t i = 0; i < net.outputs().size(); ++i)
      edge(from(net, path, net.output_source(i)), path + "#" + net.outputs()[i].name, "", depth);
  }

  void edge(const std::string& a, const std::string& b, const std::string& label, int depth) {
    out_ << indent(depth) << quoted(a) << " -> " << quoted(b);
    if (!label.empty()) out_ << " [label=" << quoted(label) << "]";
    out_ << ";\n";
  }

  std::ostringstream out_;
};

}  // namespace

std::string NetDot(const Layer& net) {
  return DotWriter().write(net);
}

}  // namespace strata
