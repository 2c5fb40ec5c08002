// The subcommands of `strata`. Each adds itself to the app with its options,
// help text and an example, and runs from its callback once the command line
// is parsed. They report user errors by throwing strata::Error whose message
// starts with the file at fault; main() prints it and exits with 1.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace strata::cli {

// Thrown by `strata train` when SIGINT or SIGTERM stopped it after saving its
// state; main() prints the message and exits with 130.
struct Interrupted {
  std::string message;
};

// Thrown by a process of a data-parallel `strata train` (under mpirun) whose
// failure or interruption another process reports: main() exits with `code`
// and prints nothing, so that the message appears once.
struct Quiet {
  int code;
};

void add_info_command(CLI::App& app);
void add_init_command(CLI::App& app);
void add_apply_command(CLI::App& app);
void add_extract_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_evaluate_command(CLI::App& app);
void add_edit_command(CLI::App& app);
void add_import_command(CLI::App& app);
void add_export_command(CLI::App& app);

}  // namespace strata::cli
