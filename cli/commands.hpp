// The subcommands of `strata`. Each adds itself to the app with its options,
// help text and an example, and runs from its callback once the command line
// is parsed. They report user errors by throwing strata::Error whose message
// starts with the file at fault; main() prints it and exits with 1.
#pragma once

#include <CLI/CLI.hpp>

namespace strata::cli {

void add_info_command(CLI::App& app);
void add_init_command(CLI::App& app);
void add_apply_command(CLI::App& app);
void add_extract_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_evaluate_command(CLI::App& app);

}  // namespace strata::cli
