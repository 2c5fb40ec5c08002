// `strata`: the command line of the library. Each command is in its own file
// (commands.hpp); this file sets up the app and turns every failure into one
// line on stderr and an exit code: 0 success, 1 a user error (a bad file, a
// bad option), 2 an internal error (a bug: please report it).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <string_view>

#include "cli/commands.hpp"
#include "cli/datasets.hpp"
#include "core/error.hpp"
#include "core/threads.hpp"

namespace {

constexpr std::string_view kCommands[] = {"info",     "init", "apply",  "extract", "train",
                                          "evaluate", "edit", "import", "export"};

// Messages are printed as one line (a multi-line library message would not
// read as `strata: file: problem`).
std::string one_line(std::string message) {
  for (char& c : message)
    if (c == '\n' || c == '\r') c = ' ';
  return message;
}

// The help hint for a failed parse: the command's own help when one was named.
std::string help_hint(const CLI::App& app) {
  const auto selected = app.get_subcommands();
  return selected.empty() ? "strata --help" : "strata " + selected.front()->get_name() + " --help";
}

int run(int argc, char** argv) {
  CLI::App app{
      "strata: neural nets stored as JSON files, from the command line. Inspect a net,\n"
      "initialize its arrays, apply it to tensors, extract arrays, options and layers,\n"
      "train it on a dataset and evaluate it; import ONNX models (from PyTorch) and\n"
      "export nets to ONNX.",
      "strata"};
  app.set_version_flag("--version", std::string("strata ") + STRATA_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Examples:\n"
      "  strata info net.json\n"
      "  strata init net.json -o initialized.json --seed 1\n"
      "  strata apply initialized.json inputs.npy -o outputs.npy\n"
      "  strata train net.json --data train.csv --rounds 20 -o trained.json\n"
      "  strata evaluate trained.json --data test.csv\n"
      "  strata import model.onnx -o net.json\n"
      "Run `strata COMMAND --help` for a command's options and examples.\n"
      "Exit codes: 0 success, 1 a user error (a bad file or option: one line on\n"
      "standard error, nothing written), 2 an internal error.");
  strata::cli::add_info_command(app);
  strata::cli::add_init_command(app);
  strata::cli::add_apply_command(app);
  strata::cli::add_extract_command(app);
  strata::cli::add_train_command(app);
  strata::cli::add_evaluate_command(app);
  strata::cli::add_edit_command(app);
  strata::cli::add_import_command(app);
  strata::cli::add_export_command(app);

  // CLI11 would call an unknown command "an argument not expected", and an
  // unknown option before the command "a subcommand is required"; say it plainly.
  std::string list;
  for (std::string_view c : kCommands)
    list += (list.empty() ? "" : ", ") + std::string(c);
  if (argc < 2) {
    std::cerr << "strata: no command given (commands: " << list << "; see strata --help)\n";
    return 1;
  }
  const std::string first = argv[1];
  const bool known =
      std::find(std::begin(kCommands), std::end(kCommands), first) != std::end(kCommands);
  if (first[0] != '-' && !known) {
    std::cerr << "strata: unknown command \"" << first << "\" (commands: " << list
              << "; see strata --help)\n";
    return 1;
  }
  if (first[0] == '-' && first != "-h" && first != "--help" && first != "--version") {
    std::cerr << "strata: unknown option " << first << " (options before the command: --help, "
              << "--version; see strata --help)\n";
    return 1;
  }

  // A malformed STRATA_NUM_THREADS or OMP_NUM_THREADS is an error before any work.
  if (first != "-h" && first != "--help" && first != "--version") strata::num_threads();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version end the parse with exit code 0 and print as usual.
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    std::cerr << "strata: " << one_line(e.what()) << " (see " << help_hint(app) << ")\n";
    return 1;
  }
  for (const std::string& note : strata::cli::take_notes())
    std::cerr << note << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const strata::cli::Quiet& e) {
    return e.code;
  } catch (const strata::cli::Interrupted& e) {
    std::cerr << "strata: " << e.message << "\n";
    return 130;
  } catch (const strata::Error& e) {
    std::cerr << "strata: " << one_line(e.what()) << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "strata: out of memory\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "strata: internal error: " << one_line(e.what()) << "\n";
    return 2;
  } catch (...) {
    std::cerr << "strata: internal error: an unknown exception\n";
    return 2;
  }
}
