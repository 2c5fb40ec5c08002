// Whole-file reads and atomic whole-file writes.
//
// An atomic write goes to a temporary file in the target's directory, which
// is flushed to disk (fsync) and then renamed over the target: a reader, or
// the file system after a crash, sees either the old contents or the new,
// never a partial file. On any failure the temporary is removed, an existing
// target is left untouched, and strata::Error is thrown naming the path and
// the operating system's reason ("out/net.json: cannot write: No space left
// on device").
//
// The new file gets the permissions of the file it replaces, or the usual
// 0666 minus the umask for a new one. A symbolic link at the target is
// replaced by the new file, not followed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

namespace strata {

// Replaces (or creates) `path` with `bytes`, atomically.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

// Replaces (or creates) `path` with what `write` puts into the stream,
// atomically. If `write` throws, or the stream fails, nothing is replaced and
// the exception (or an Error naming the path) propagates.
void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(std::ostream&)>& write);

// Removes the temporary file of the atomic write under way, if any (the
// newest one). Async-signal-safe: for a handler that must exit at once.
void remove_pending_temporary() noexcept;

// The most bytes strata reads from one file, so that an endless stream
// (/dev/zero through a pipe) or a file far beyond any real one ends in an
// Error naming the file and the limit, not in exhausted memory: 2 GiB for
// text (net, tensor and checkpoint JSON, CSV, label lists) and 16 GiB for
// .npy files. The environment's STRATA_MAX_FILE_SIZE (bytes, or with a K, M,
// G or T suffix: 8G) replaces both; a malformed value is an Error naming it.
inline constexpr uint64_t kMaxTextFileBytes = uint64_t{2} << 30;
inline constexpr uint64_t kMaxBinaryFileBytes = uint64_t{16} << 30;
uint64_t max_file_bytes(uint64_t default_limit);

// The whole contents of a file (a regular file or a pipe) of at most `limit`
// bytes. Throws Error naming the path and the reason: it cannot be opened,
// it is a device or socket (/dev/zero, /dev/urandom), it is over the limit.
std::string read_file(const std::filesystem::path& path);
std::string read_file(const std::filesystem::path& path, uint64_t limit);

// The building block of write_file_atomically, for writers that produce their
// output in pieces: construct, write() any number of times, commit(). A
// writer destroyed without a successful commit() removes its temporary and
// leaves the target as it was.
class AtomicFileWriter {
 public:
  // Creates the temporary file next to `target`.
  explicit AtomicFileWriter(std::filesystem::path target);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(std::string_view bytes);
  // Flushes the temporary to disk and renames it over the target, then
  // flushes the directory so that the rename survives a crash. Without
  // `sync_directory` a crash may leave the old file in place (never a
  // partial one): for files rewritten often whose old version is still
  // good (checkpoints after each round), one flush less.
  void commit(bool sync_directory = true);

  const std::filesystem::path& target() const { return target_; }
  const std::filesystem::path& temporary() const { return temporary_; }

 private:
  [[noreturn]] void fail(const std::string& what, int error_number);
  void discard() noexcept;

  std::filesystem::path target_;
  std::filesystem::path temporary_;
  int fd_ = -1;
  bool committed_ = false;
};

// A file opened for reading with errors that name it, for readers that look
// at a file piece by piece (a header first, then the data). Every reader of
// strata's files goes through it. It reads regular files and pipes (a
// shell's <(...), /dev/stdin), and refuses devices and sockets before
// opening them; a regular file larger than `limit` is refused when opened,
// and a pipe once more than `limit` bytes came from it.
class FileReader {
 public:
  FileReader(std::filesystem::path path, uint64_t limit);
  ~FileReader();
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  // The file's size when it was opened (0 for a pipe or device).
  uint64_t size() const { return size_; }
  // A regular file, whose size() is known (not a pipe or device).
  bool is_regular() const { return regular_; }
  // Reads up to `n` bytes at the current position; fewer only at the end of
  // the file. Returns the number read.
  size_t read(void* destination, size_t n);
  // Throws the limit's Error unless `n` more bytes may still be read (for a
  // reader that knows from a header how much is to come, before allocating).
  void require_room(uint64_t n) const;
  uint64_t limit() const { return limit_; }

  const std::filesystem::path& path() const { return path_; }

 private:
  [[noreturn]] void over_limit() const;

  std::filesystem::path path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  uint64_t limit_ = 0;
  uint64_t consumed_ = 0;  // bytes read so far
  bool regular_ = false;
};

}  // namespace strata
