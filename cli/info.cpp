// strata info NET: the net's summary table, or a picture of it (DOT, SVG).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "cli/commands.hpp"
#include "cli/files.hpp"
#include "core/error.hpp"
#include "graph/class_labels.hpp"
#include "graph/dot.hpp"
#include "graph/summary.hpp"
#include "serialization/atomic_file.hpp"
#include "serialization/net_json.hpp"

namespace strata::cli {

namespace {

// The path of an executable named `name` on PATH, or empty.
std::string find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// Renders DOT as SVG with Graphviz's dot, then writes it atomically: a failed
// render leaves nothing behind.
void render_svg(const std::string& dot, const std::string& path) {
  const std::string exe = find_on_path("dot");
  if (exe.empty())
    throw Error(
        "--svg: Graphviz's dot was not found on PATH (install the graphviz package, or "
        "write DOT with --dot and render it elsewhere)");
  char in_name[] = "/tmp/strata-dot-XXXXXX";
  const int fd = mkstemp(in_name);
  if (fd < 0) throw Error("--svg: cannot create a scratch file for dot");
  const bool wrote = write(fd, dot.data(), dot.size()) == static_cast<ssize_t>(dot.size());
  close(fd);
  std::string svg;
  int status = -1;
  if (wrote) {
    const std::string command = "'" + exe + "' -Tsvg '" + in_name + "' 2>/dev/null";
    if (FILE* p = popen(command.c_str(), "r")) {
      char buf[65536];
      size_t n;
      while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        svg.append(buf, n);
      status = pclose(p);
    }
  }
  std::remove(in_name);
  if (!wrote || status != 0 || svg.empty())
    throw Error("--svg: Graphviz's dot failed to render the net (exit status " +
                std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
  write_file_atomically(path, svg);
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Print a net's summary table, or draw it");
  auto net_file = std::make_shared<std::string>();
  auto dot = std::make_shared<bool>(false);
  auto svg = std::make_shared<std::string>();
  cmd->add_option("NET", *net_file, "The net file (JSON)")->required()->type_name("FILE");
  cmd->add_flag("--dot", *dot,
                "Print the net as a Graphviz DOT graph instead: layers as boxes (name, type, "
                "output shape), connections as edges, nested nets as clusters");
  cmd->add_option("--svg", *svg, "Draw the net into an SVG file (needs Graphviz's dot)")
      ->type_name("FILE");
  cmd->footer(
      "Per layer: its name, type, input and output shapes (one example, without the\n"
      "batch dimension), arrays (\"Automatic\" while not created yet) and parameter\n"
      "count; then the totals, and the net's class labels if it has them.\n\n"
      "Examples:\n"
      "  strata info net.json\n"
      "  strata info net.json --dot > net.dot\n"
      "  strata info net.json --svg net.svg");
  cmd->callback([net_file, dot, svg] {
    check_distinct_files({{"NET", *net_file}}, {{"--svg", *svg}});
    const auto net = load_net_file(*net_file);
    if (*dot || !svg->empty()) {
      const std::string text = NetDot(*net);
      if (!svg->empty()) render_svg(text, *svg);
      if (*dot) std::cout << text;
      return;
    }
    std::cout << NetSummary(*net);
    if (const auto& labels = class_labels(*net); !labels.empty()) {
      std::cout << "class labels:";
      for (const auto& label : labels)
        std::cout << " " << label;
      std::cout << "\n";
    }
    if (const auto missing = net->missing_arrays(); !missing.empty())
      std::cout << missing.size() << (missing.size() == 1 ? " array is" : " arrays are")
                << " Automatic: `strata init` or `strata train` creates them\n";
  });
}

}  // namespace strata::cli
