// strata info NET: the net's summary table.
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "graph/class_labels.hpp"
#include "graph/summary.hpp"
#include "serialization/net_json.hpp"

namespace strata::cli {

void add_info_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Print a net's summary table");
  auto net_file = std::make_shared<std::string>();
  cmd->add_option("NET", *net_file, "The net file (JSON)")->required()->type_name("FILE");
  cmd->footer(
      "Per layer: its name, type, input and output shapes (one example, without the\n"
      "batch dimension), arrays (\"Automatic\" while not created yet) and parameter\n"
      "count; then the totals, and the net's class labels if it has them.\n\n"
      "Example:\n"
      "  strata info net.json");
  cmd->callback([net_file] {
    const auto net = load_net(*net_file);
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
