#include "serialization/atomic_file.hpp"

#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <ostream>
#include <stdexcept>
#include <thread>

#include "core/error.hpp"
#include "layers/linear.hpp"
#include "serialization/net_json.hpp"
#include "serialization/npy.hpp"
#include "serialization/tensor_json.hpp"
#include "train/initialize.hpp"

using namespace strata;
namespace fs = std::filesystem;

namespace {

// A fresh, empty directory for one test, removed afterwards.
struct ScratchDir {
  fs::path path;
  ScratchDir() {
    path = fs::temp_directory_path() / ("strata_atomic_file_test_" + std::to_string(::getpid()) +
                                        "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchDir() { fs::remove_all(path); }
  // Everything in the directory, to catch a temporary left behind.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path))
      names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  static inline int counter = 0;
};

void put(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

}  // namespace

TEST_CASE("write_file_atomically creates and replaces a file, leaving no temporary") {
  ScratchDir dir;
  const fs::path target = dir.path / "net.json";
  write_file_atomically(target, "first");
  CHECK(read_file(target) == "first");
  write_file_atomically(target, std::string("second\0with a NUL", 17));
  CHECK(read_file(target) == std::string("second\0with a NUL", 17));
  write_file_atomically(target, "");
  CHECK(read_file(target).empty());
  CHECK(dir.entries() == std::vector<std::string>{"net.json"});
}

TEST_CASE("write_file_atomically handles a relative name in the current directory") {
  ScratchDir dir;
  const fs::path old_cwd = fs::current_path();
  fs::current_path(dir.path);
  write_file_atomically("plain.txt", "x");
  fs::current_path(old_cwd);
  CHECK(read_file(dir.path / "plain.txt") == "x");
  CHECK(dir.entries() == std::vector<std::string>{"plain.txt"});
}

TEST_CASE("write_file_atomically writes large contents completely") {
  ScratchDir dir;
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<char>(i * 7 + i / 251);
  write_file_atomically(dir.path / "big.bin", big);
  CHECK(read_file(dir.path / "big.bin") == big);
}

TEST_CASE("write_file_atomically keeps the permissions of the file it replaces") {
  ScratchDir dir;
  const fs::path target = dir.path / "secret";
  put(target, "old");
  fs::permissions(target, fs::perms::owner_read | fs::perms::owner_write);
  write_file_atomically(target, "new");
  CHECK(fs::status(target).permissions() == (fs::perms::owner_read | fs::perms::owner_write));
}

TEST_CASE("write_file_atomically with a stream writer") {
  ScratchDir dir;
  const fs::path target = dir.path / "stream.txt";
  write_file_atomically(target, [](std::ostream& out) {
    for (int i = 0; i < 20000; ++i)
      out << i << '\n';
  });
  std::string expected;
  for (int i = 0; i < 20000; ++i)
    expected += std::to_string(i) + "\n";
  CHECK(read_file(target) == expected);
  CHECK(dir.entries() == std::vector<std::string>{"stream.txt"});
}

TEST_CASE("a stream writer that throws leaves the old file and no temporary") {
  ScratchDir dir;
  const fs::path target = dir.path / "net.json";
  put(target, "old contents");
  CHECK_THROWS_WITH_AS(write_file_atomically(target,
                                             [](std::ostream& out) {
                                               out << std::string(100000, 'x');
                                               throw std::runtime_error("serializer failed");
                                             }),
                       "serializer failed", std::runtime_error);
  CHECK(read_file(target) == "old contents");
  CHECK(dir.entries() == std::vector<std::string>{"net.json"});
}

TEST_CASE("write_file_atomically fails cleanly when the directory cannot hold the file") {
  // Tests may run as root, for whom a read-only directory is no obstacle; a
  // parent that is a regular file, a missing directory, or /proc stop anyone.
  ScratchDir dir;
  const fs::path not_a_dir = dir.path / "file";
  put(not_a_dir, "I am a file");

  SUBCASE("parent is a regular file") {
    const fs::path target = not_a_dir / "net.json";
    CHECK_THROWS_WITH_AS(write_file_atomically(target, "x"),
                         (target.string() + ": cannot create a temporary file in " +
                          not_a_dir.string() + ": Not a directory")
                             .c_str(),
                         Error);
  }
  SUBCASE("missing directory") {
    const fs::path target = dir.path / "missing" / "net.json";
    CHECK_THROWS_WITH_AS(write_file_atomically(target, "x"),
                         doctest::Contains("No such file or directory"), Error);
    CHECK_THROWS_WITH_AS(write_file_atomically(target, "x"),
                         doctest::Contains((target.string() + ": ").c_str()), Error);
    CHECK_FALSE(fs::exists(dir.path / "missing"));
  }
  SUBCASE("/proc") {
    CHECK_THROWS_AS(write_file_atomically("/proc/strata_test_file", "x"), Error);
    CHECK_THROWS_AS(write_file_atomically("/proc/version", "x"), Error);
    CHECK(read_file("/proc/version").find("Linux") != std::string::npos);
  }
  CHECK(read_file(not_a_dir) == "I am a file");
  CHECK(dir.entries() == std::vector<std::string>{"file"});
}

TEST_CASE("a failed rename removes the temporary and leaves the target") {
  // Renaming a file over a non-empty directory fails for root too.
  ScratchDir dir;
  const fs::path target = dir.path / "model";
  fs::create_directories(target / "inside");
  CHECK_THROWS_WITH_AS(
      write_file_atomically(target, "x"),
      doctest::Contains(
          (target.string() + ": cannot replace the file with the new contents: ").c_str()),
      Error);
  CHECK(fs::is_directory(target / "inside"));
  CHECK(dir.entries() == std::vector<std::string>{"model"});
}

TEST_CASE("AtomicFileWriter removes its temporary when abandoned") {
  ScratchDir dir;
  const fs::path target = dir.path / "out.bin";
  put(target, "old");
  {
    AtomicFileWriter writer(target);
    writer.write("partial");
    CHECK(fs::exists(writer.temporary()));
    CHECK(writer.temporary().parent_path() == dir.path);
    CHECK(read_file(target) == "old");
  }
  CHECK(read_file(target) == "old");
  CHECK(dir.entries() == std::vector<std::string>{"out.bin"});

  AtomicFileWriter writer(target);
  writer.write("new");
  writer.commit();
  CHECK(read_file(target) == "new");
  CHECK_THROWS_WITH_AS(writer.write("more"), doctest::Contains("already committed"), Error);
}

TEST_CASE("a write error such as a full disk is reported and cleans up") {
  // A file size limit makes write() fail (EFBIG) the way a full disk does
  // (ENOSPC), without needing a full file system; SIGXFSZ is ignored so that
  // the failure is an error return rather than a signal.
  ScratchDir dir;
  const fs::path target = dir.path / "weights.npy";
  put(target, "old");
  struct rlimit saved {};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
  auto* saved_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit limited = saved;
  limited.rlim_cur = 1 << 20;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &limited) == 0);
  std::string error;
  try {
    write_file_atomically(target, std::string(3 << 20, 'x'));
  } catch (const Error& e) {
    error = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, saved_handler);
  CHECK(error == target.string() + ": cannot write: File too large");
  CHECK(read_file(target) == "old");
  CHECK(dir.entries() == std::vector<std::string>{"weights.npy"});
}

TEST_CASE("a name too long for the file system is reported and leaves nothing behind") {
  ScratchDir dir;
  const fs::path target = dir.path / std::string(300, 'n');
  CHECK_THROWS_WITH_AS(write_file_atomically(target, "x"), doctest::Contains("File name too long"),
                       Error);
  CHECK(dir.entries().empty());
}

TEST_CASE("write_file_atomically refuses a path that names no file") {
  CHECK_THROWS_WITH_AS(write_file_atomically("", "x"), doctest::Contains("not a file name"), Error);
  ScratchDir dir;
  CHECK_THROWS_WITH_AS(write_file_atomically(dir.path / "sub/", "x"),
                       doctest::Contains("not a file name"), Error);
}

TEST_CASE("write_file_atomically refuses to replace a device or a pipe") {
  CHECK_THROWS_WITH_AS(write_file_atomically("/dev/null", "x"),
                       "/dev/null: cannot write: not a regular file (a device, pipe or socket)",
                       Error);
  CHECK(fs::is_character_file("/dev/null"));
  ScratchDir dir;
  const fs::path fifo = dir.path / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH_AS(write_file_atomically(fifo, "x"), doctest::Contains("not a regular file"),
                       Error);
  CHECK(fs::is_fifo(fifo));
  CHECK(dir.entries() == std::vector<std::string>{"fifo"});
}

TEST_CASE("read_file names the file and the reason") {
  ScratchDir dir;
  const fs::path missing = dir.path / "missing.npy";
  CHECK_THROWS_WITH_AS(
      read_file(missing),
      (missing.string() + ": cannot open for reading: No such file or directory").c_str(), Error);
  CHECK_THROWS_WITH_AS(read_file(dir.path), doctest::Contains("Is a directory"), Error);
}

TEST_CASE("every writer of strata leaves the old file intact when the disk is full") {
  // save_net, write_npy and write_tensor_file all go through
  // write_file_atomically; a full disk (a file size limit, as above) must
  // leave the previous file as it was and no temporary behind.
  ScratchDir dir;
  LinearLayer big(1000);
  big.constrain_input(0, Shape{300});
  big.infer_shapes();
  NetInitialize(big, {.seed = 3});
  const Tensor weights = *big.array("Weights");  // 300000 floats, over 1 MB in any format
  const std::vector<std::pair<std::string, std::function<void(const fs::path&)>>> writers = {
      {"net.json", [&](const fs::path& p) { save_net(p, big); }},
      {"w.npy", [&](const fs::path& p) { write_npy(p, weights); }},
      {"w_by_suffix.npy", [&](const fs::path& p) { write_tensor_file(p, weights); }},
      {"w.json", [&](const fs::path& p) { write_tensor_file(p, weights); }},
  };
  for (const auto& [name, write] : writers) {
    CAPTURE(name);
    const fs::path target = dir.path / name;
    put(target, "old");
    struct rlimit saved {};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
    auto* saved_handler = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit limited = saved;
    limited.rlim_cur = 1 << 20;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &limited) == 0);
    std::string error;
    try {
      write(target);
    } catch (const Error& e) {
      error = e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, saved_handler);
    CHECK(error == target.string() + ": cannot write: File too large");
    CHECK(read_file(target) == "old");
    // Without the limit the same write succeeds.
    write(target);
    CHECK(read_file(target).size() > (1u << 20));
    fs::remove(target);
  }
  CHECK(dir.entries().empty());
}

TEST_CASE("every writer of strata refuses a read-only directory and leaves the old file") {
  ScratchDir dir;
  const fs::path target = dir.path / "net.json";
  put(target, "old");
  fs::permissions(dir.path, fs::perms::owner_read | fs::perms::owner_exec);
  if (::access(dir.path.c_str(), W_OK) == 0) {
    // Root may write anyway; nothing to check then (a read-only file system
    // would be needed).
    fs::permissions(dir.path, fs::perms::owner_all);
    MESSAGE("running with permission to write anywhere: the read-only case is not checked");
    return;
  }
  LinearLayer layer(2);
  layer.constrain_input(0, Shape{2});
  layer.infer_shapes();
  NetInitialize(layer);
  std::string error;
  try {
    save_net(target, layer);
  } catch (const Error& e) {
    error = e.what();
  }
  fs::permissions(dir.path, fs::perms::owner_all);
  CHECK(error == target.string() + ": cannot create a temporary file in " + dir.path.string() +
                     ": Permission denied");
  CHECK(read_file(target) == "old");
  CHECK(dir.entries() == std::vector<std::string>{"net.json"});
}

TEST_CASE("read_file refuses devices, and files and pipes beyond the limit, naming them") {
  CHECK_THROWS_WITH_AS(read_file("/dev/zero"),
                       "/dev/zero: cannot read: not a regular file or a pipe (a character device)",
                       Error);
  CHECK_THROWS_WITH_AS(read_npy("/dev/urandom"),
                       "/dev/urandom: cannot read: not a regular file or a pipe (a character "
                       "device)",
                       Error);
  ScratchDir dir;
  const fs::path file = dir.path / "big.json";
  put(file, std::string(3000, ' '));
  CHECK(read_file(file, 3000).size() == 3000);
  CHECK_THROWS_WITH_AS(
      read_file(file, 2048),
      (file.string() + ": 2.93 KiB (3000 bytes), more than the 2 KiB strata reads from one file "
                       "(the environment's STRATA_MAX_FILE_SIZE raises the limit)")
          .c_str(),
      Error);
  // An endless pipe ends at the limit.
  const fs::path fifo = dir.path / "endless.json";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::thread feeder([&] {
    std::FILE* f = std::fopen(fifo.c_str(), "wb");
    const std::string block(4096, '[');
    while (std::fwrite(block.data(), 1, block.size(), f) == block.size()) {
    }
    std::fclose(f);
  });
  std::signal(SIGPIPE, SIG_IGN);  // the feeder's end, once the reader is gone
  CHECK_THROWS_WITH_AS(
      read_file(fifo, 1 << 20),
      (fifo.string() + ": more than the 1 MiB strata reads from one file came from this pipe "
                       "(the environment's STRATA_MAX_FILE_SIZE raises the limit)")
          .c_str(),
      Error);
  feeder.join();
  std::signal(SIGPIPE, SIG_DFL);
}

TEST_CASE("STRATA_MAX_FILE_SIZE replaces the limits; a malformed value is an Error naming it") {
  CHECK(max_file_bytes(kMaxTextFileBytes) == kMaxTextFileBytes);
  ::setenv("STRATA_MAX_FILE_SIZE", "8G", 1);
  CHECK(max_file_bytes(kMaxTextFileBytes) == uint64_t{8} << 30);
  ::setenv("STRATA_MAX_FILE_SIZE", "1234", 1);
  CHECK(max_file_bytes(kMaxBinaryFileBytes) == 1234);
  for (const char* bad : {"0", "-5", "lots", "8Q", "99999999999T"}) {
    ::setenv("STRATA_MAX_FILE_SIZE", bad, 1);
    CHECK_THROWS_WITH_AS(max_file_bytes(kMaxTextFileBytes),
                         doctest::Contains("STRATA_MAX_FILE_SIZE: expected a positive number of "
                                           "bytes"),
                         Error);
  }
  ::unsetenv("STRATA_MAX_FILE_SIZE");
}
