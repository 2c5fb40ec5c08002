#include "cli/files.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <vector>

#include "core/error.hpp"
#include "serialization/atomic_file.hpp"
#include "serialization/net_json.hpp"
#ifdef STRATA_HAS_ONNX
#include "onnx_io/import.hpp"
#endif

namespace strata::cli {

namespace fs = std::filesystem;

std::unique_ptr<Layer> load_net_file(const std::string& path) {
  if (fs::path(path).extension() == ".onnx") {
#ifdef STRATA_HAS_ONNX
    return import_onnx(path);
#else
    throw Error(path + ": strata was built without ONNX support (-DSTRATA_ONNX=OFF)");
#endif
  }
  return load_net(path);
}

void require_initialized(const Layer& net, const std::string& net_file) {
  const std::vector<std::string> missing = net.missing_arrays();
  if (missing.empty()) return;
  // A long list helps no one: the first few say what is going on.
  constexpr size_t kShown = 4;
  std::string list;
  for (size_t i = 0; i < std::min(missing.size(), kShown); ++i)
    list += (i ? ", " : "") + missing[i];
  if (missing.size() > kShown) list += " and " + std::to_string(missing.size() - kShown) + " more";
  throw Error("arrays not initialized: " + list + " (run `strata init " + net_file +
              " -o OUT.json` first, or train it)")
      .add_context(net_file);
}

void check_writable(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw Error("cannot write: is a directory").add_context(path);
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty() && !fs::is_directory(parent, ec))
    throw Error("cannot write: no directory \"" + parent.string() + "\"").add_context(path);
  // The real test: a temporary next to the target, removed again unused.
  AtomicFileWriter probe{fs::path(path)};
}

void check_tensor_output(const std::string& path) {
  std::string suffix = fs::path(path).extension().string();
  std::transform(suffix.begin(), suffix.end(), suffix.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (suffix != ".npy" && suffix != ".json")
    throw Error("cannot write a tensor: unknown file type " +
                (suffix.empty() ? std::string("(no suffix)") : "\"" + suffix + "\"") +
                "; expected .npy or .json")
        .add_context(path);
  check_writable(path);
}

namespace {

// Whether two paths name one file: the same inode when both exist, else the
// same place once symbolic links, "." and ".." are resolved.
bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (fs::equivalent(a, b, ec) && !ec) return true;
  std::error_code ec_a, ec_b;
  const fs::path where_a = fs::weakly_canonical(fs::absolute(a, ec_a), ec_a);
  const fs::path where_b = fs::weakly_canonical(fs::absolute(b, ec_b), ec_b);
  return !ec_a && !ec_b && where_a == where_b;
}

}  // namespace

void check_distinct_files(const std::vector<FileRole>& inputs,
                          const std::vector<FileRole>& outputs) {
  for (size_t i = 0; i < outputs.size(); ++i) {
    const FileRole& out = outputs[i];
    if (out.path.empty()) continue;
    for (const FileRole& in : inputs)
      if (!in.path.empty() && same_file(out.path, in.path))
        throw Error(out.what + " names the same file as the input " + in.what +
                    (in.path == out.path ? std::string() : " (" + in.path + ")") +
                    ", which writing it would replace; give the output a file of its own")
            .add_context(out.path);
    for (size_t j = 0; j < i; ++j)
      if (!outputs[j].path.empty() && same_file(out.path, outputs[j].path))
        throw Error(out.what + " and " + outputs[j].what + " name the same file" +
                    (outputs[j].path == out.path ? std::string() : " (" + outputs[j].path + ")") +
                    "; give each output a file of its own")
            .add_context(out.path);
  }
}

std::pair<std::string, std::string> split_assignment(const std::string& text,
                                                     const std::string& option) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    throw Error(option + ": expected NAME=FILE, got \"" + text + "\"");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

}  // namespace strata::cli
