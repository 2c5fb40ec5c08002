#include "serialization/atomic_file.hpp"

#include <atomic>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <exception>
#include <limits>
#include <ostream>
#include <random>
#include <streambuf>
#include <system_error>
#include <vector>

#include "core/error.hpp"
#include "core/memory.hpp"

namespace strata {

namespace fs = std::filesystem;

namespace {

std::string reason(int error_number) {
  return std::generic_category().message(error_number);
}

Error file_error(const fs::path& path, const std::string& what, int error_number) {
  return std::move(Error(what + ": " + reason(error_number)).add_context(path.string()));
}

// A name for the temporary that no other writer picks: hidden, next to the
// target, with random letters. The target's name is shortened so that the
// result stays within the usual 255-byte limit on a file name.
std::string temporary_name(const std::string& target_name) {
  static constexpr char kLetters[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device device;
  std::string name = ".";
  name.append(target_name, 0, 200);
  name += ".tmp-";
  for (int i = 0; i < 8; ++i)
    name += kLetters[device() % (sizeof(kLetters) - 1)];
  return name;
}

// Collects what an ostream writes and hands it to the writer in blocks. An
// exception from the writer is kept and rethrown once the stream is done, so
// that iostreams' habit of swallowing it into badbit cannot hide it.
class WriterBuffer : public std::streambuf {
 public:
  explicit WriterBuffer(AtomicFileWriter& writer) : writer_(writer), buffer_(size_t{1} << 16) {
    setp(buffer_.data(), buffer_.data() + buffer_.size());
  }

  std::exception_ptr error() const { return error_; }

 protected:
  int_type overflow(int_type ch) override {
    if (!flush_buffer()) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }

  int sync() override { return flush_buffer() ? 0 : -1; }

 private:
  bool flush_buffer() {
    if (error_) return false;
    try {
      writer_.write(std::string_view(pbase(), static_cast<size_t>(pptr() - pbase())));
    } catch (...) {
      error_ = std::current_exception();
      return false;
    }
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return true;
  }

  AtomicFileWriter& writer_;
  std::vector<char> buffer_;
  std::exception_ptr error_;
};

}  // namespace

namespace {

// The temporary file of the write under way, for remove_pending_temporary()
// in a signal handler: a fixed buffer (no allocation there), published by
// an atomic flag. One write at a time is tracked, the newest.
char g_pending_path[4096];
std::atomic<bool> g_pending{false};
static_assert(std::atomic<bool>::is_always_lock_free);

void track_pending(const fs::path& temporary) {
  g_pending.store(false);
  const std::string& p = temporary.native();
  if (p.size() >= sizeof g_pending_path) return;
  std::memcpy(g_pending_path, p.c_str(), p.size() + 1);
  g_pending.store(true);
}

void untrack_pending(const fs::path& temporary) {
  if (g_pending.load() && temporary.native() == g_pending_path) g_pending.store(false);
}

}  // namespace

void remove_pending_temporary() noexcept {
  if (g_pending.exchange(false)) ::unlink(g_pending_path);
}

AtomicFileWriter::AtomicFileWriter(fs::path target) : target_(std::move(target)) {
  const std::string name = target_.filename().string();
  if (name.empty() || name == "." || name == "..")
    throw Error("cannot write: not a file name").add_context(target_.string());
  const fs::path directory = target_.has_parent_path() ? target_.parent_path() : fs::path(".");

  // Renaming over a device or a pipe (/dev/null, /dev/stdout) would replace
  // it with a plain file instead of writing to it.
  struct stat existing {};
  const bool exists = ::stat(target_.c_str(), &existing) == 0;
  if (exists && !S_ISREG(existing.st_mode) && !S_ISDIR(existing.st_mode))
    throw Error("cannot write: not a regular file (a device, pipe or socket)")
        .add_context(target_.string());

  // O_EXCL: never open a file someone else made; retry on the (unlikely)
  // clash of random names.
  for (int attempt = 0; fd_ < 0; ++attempt) {
    temporary_ = directory / temporary_name(name);
    fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0 && (errno != EEXIST || attempt == 16)) {
      const int error_number = errno;
      temporary_.clear();  // not ours: nothing to remove
      throw file_error(target_, "cannot create a temporary file in " + directory.string(),
                       error_number);
    }
  }

  track_pending(temporary_);
  // Replacing a file keeps its permissions (a private key stays private).
  if (exists && S_ISREG(existing.st_mode) && ::fchmod(fd_, existing.st_mode & 07777) != 0)
    fail("cannot copy the permissions of the existing file", errno);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (!committed_) discard();
}

void AtomicFileWriter::write(std::string_view bytes) {
  if (fd_ < 0)
    throw Error("cannot write: the file was already committed or abandoned")
        .add_context(target_.string());
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write", errno);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

void AtomicFileWriter::commit(bool sync_directory) {
  if (fd_ < 0)
    throw Error("cannot commit: the file was already committed or abandoned")
        .add_context(target_.string());
  // Data on disk before the rename, so a crash cannot leave an empty or
  // partial file under the target's name.
  if (::fsync(fd_) != 0) fail("cannot flush to disk", errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail("cannot write (on close)", errno);
  if (::rename(temporary_.c_str(), target_.c_str()) != 0)
    fail("cannot replace the file with the new contents", errno);
  untrack_pending(temporary_);
  committed_ = true;
  if (!sync_directory) return;

  // Makes the rename itself durable. Some file systems cannot sync a
  // directory (EINVAL); nothing more can be done there.
  const fs::path directory = target_.has_parent_path() ? target_.parent_path() : fs::path(".");
  const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return;
  const int synced = ::fsync(dir_fd);
  const int error_number = errno;
  ::close(dir_fd);
  if (synced != 0 && error_number != EINVAL && error_number != ENOTSUP)
    throw file_error(target_, "the file was replaced, but flushing its directory to disk failed",
                     error_number);
}

void AtomicFileWriter::fail(const std::string& what, int error_number) {
  discard();
  throw file_error(target_, what, error_number);
}

void AtomicFileWriter::discard() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temporary_.empty()) {
    untrack_pending(temporary_);
    ::unlink(temporary_.c_str());
  }
  temporary_.clear();
}

void write_file_atomically(const fs::path& path, std::string_view bytes) {
  AtomicFileWriter writer(path);
  writer.write(bytes);
  writer.commit();
}

void write_file_atomically(const fs::path& path, const std::function<void(std::ostream&)>& write) {
  AtomicFileWriter writer(path);
  WriterBuffer buffer(writer);
  std::ostream stream(&buffer);
  write(stream);
  stream.flush();
  if (buffer.error()) std::rethrow_exception(buffer.error());
  if (!stream) throw Error("cannot write: the output stream failed").add_context(path.string());
  writer.commit();
}

uint64_t max_file_bytes(uint64_t default_limit) {
  const char* text = std::getenv("STRATA_MAX_FILE_SIZE");
  if (!text || !*text) return default_limit;
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(text, &end, 10);
  int shift = 0;
  if (end != text && *end && !end[1]) {
    switch (*end) {
      case 'K':
      case 'k':
        shift = 10;
        ++end;
        break;
      case 'M':
      case 'm':
        shift = 20;
        ++end;
        break;
      case 'G':
      case 'g':
        shift = 30;
        ++end;
        break;
      case 'T':
      case 't':
        shift = 40;
        ++end;
        break;
      default:
        break;
    }
  }
  if (end == text || *end || errno == ERANGE || value == 0 || text[0] == '-' ||
      value > (std::numeric_limits<uint64_t>::max() >> shift))
    throw Error(std::string("STRATA_MAX_FILE_SIZE: expected a positive number of bytes (or with "
                            "a K, M, G or T suffix: 8G), got \"") +
                text + "\"");
  return static_cast<uint64_t>(value) << shift;
}

FileReader::FileReader(fs::path path, uint64_t limit) : path_(std::move(path)), limit_(limit) {
  if (path_.empty())
    throw Error("\"\": an empty path where a file is needed (is a variable in the command unset?)");
  // Devices are refused before they are opened: /dev/zero and /dev/urandom
  // never end, and opening some devices does something.
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) &&
      !S_ISDIR(st.st_mode)) {
    const char* kind = S_ISCHR(st.st_mode)    ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "not a file";
    throw Error(std::string("cannot read: not a regular file or a pipe (") + kind + ")")
        .add_context(path_.string());
  }
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw file_error(path_, "cannot open for reading", errno);
  if (::fstat(fd_, &st) != 0) {
    const int error_number = errno;
    ::close(fd_);
    throw file_error(path_, "cannot open for reading", error_number);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd_);
    throw file_error(path_, "cannot open for reading", EISDIR);
  }
  // Pipes and /proc files report 0; read() still works.
  regular_ = S_ISREG(st.st_mode);
  size_ = regular_ ? static_cast<uint64_t>(st.st_size) : 0;
  if (size_ > limit_) {
    ::close(fd_);
    fd_ = -1;
    throw Error(bytes_text(size_) + " (" + std::to_string(size_) + " bytes), more than the " +
                bytes_text(limit_) +
                " strata reads from one file (the environment's STRATA_MAX_FILE_SIZE raises the "
                "limit)")
        .add_context(path_.string());
  }
}

FileReader::~FileReader() {
  if (fd_ >= 0) ::close(fd_);
}

void FileReader::over_limit() const {
  throw Error("more than the " + bytes_text(limit_) + " strata reads from one file" +
              (regular_ ? std::string(" (it grew while it was read)") : " came from this pipe") +
              " (the environment's STRATA_MAX_FILE_SIZE raises the limit)")
      .add_context(path_.string());
}

void FileReader::require_room(uint64_t n) const {
  if (n > limit_ - std::min(consumed_, limit_)) over_limit();
}

size_t FileReader::read(void* destination, size_t n) {
  char* out = static_cast<char*>(destination);
  size_t done = 0;
  while (done < n) {
    const ssize_t got = ::read(fd_, out + done, n - done);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw file_error(path_, "cannot read", errno);
    }
    if (got == 0) break;
    done += static_cast<size_t>(got);
    consumed_ += static_cast<uint64_t>(got);
    if (consumed_ > limit_) over_limit();
  }
  return done;
}

std::string read_file(const fs::path& path) {
  return read_file(path, max_file_bytes(kMaxTextFileBytes));
}

std::string read_file(const fs::path& path, uint64_t limit) {
  FileReader reader(path, limit);
  check_allocation(reader.size(), path.string() + ": reading the file");
  // The size is a hint: the file may be a pipe or change while it is read.
  // Growing stops one byte past the limit, where the reader refuses.
  std::string bytes(static_cast<size_t>(reader.size()) + 1, '\0');
  size_t filled = 0;
  for (;;) {
    filled += reader.read(bytes.data() + filled, bytes.size() - filled);
    if (filled < bytes.size()) break;
    const uint64_t past_limit = limit == std::numeric_limits<uint64_t>::max() ? limit : limit + 1;
    bytes.resize(static_cast<size_t>(std::min<uint64_t>(2 * bytes.size(), past_limit)));
  }
  bytes.resize(filled);
  return bytes;
}

}  // namespace strata
