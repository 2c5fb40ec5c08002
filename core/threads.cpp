#include "core/threads.hpp"

#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace strata {

namespace {

using Clock = std::chrono::steady_clock;
// How late helpers may be before the pool stops using them, and for how long.
constexpr auto kLateHelper = std::chrono::microseconds(100);
constexpr auto kSoloTime = std::chrono::milliseconds(5);
constexpr auto kMaxSoloTime = std::chrono::milliseconds(320);
constexpr int kMaxThreads = 1024;

thread_local int tls_index = 0;
thread_local bool tls_in_loop = false;

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// One loop at a time. Its indices are handed out in chunks from an atomic
// counter; the loop is over when every index has run. Helpers register in
// `active_` before they look at a loop, and the caller does not return (its
// body going out of scope) while one is registered.
class Pool {
 public:
  ~Pool() {
    std::lock_guard<std::mutex> lock(run_mutex_);
    stop_all();
  }

  int size() const { return size_.load(std::memory_order_relaxed); }

  // Starts count - 1 helpers, or as many as the system gives (each needs a
  // stack from the address space, and the system may limit threads): fewer
  // threads give the same results, only more slowly, so a shortfall is a
  // warning on stderr, not an error. `asked_by` says where the count came from.
  void resize(int count, const std::string& asked_by) {
    std::lock_guard<std::mutex> lock(run_mutex_);
    if (count == size()) return;
    stop_all();
    const int asked = count;
    std::string why;
    if (const int room = threads_with_room(); room < count) {
      count = room;
      why = "the address-space limit (ulimit -v) leaves room for the stacks of " +
            std::to_string(room);
    }
    std::string failure;
    if (const int started = start(count, failure); started < count) {
      // Half of those that started, to leave the work itself the address
      // space and threads it will need.
      stop_all();
      why = "only " + std::to_string(started) + " could be started (" + failure + ")";
      count = std::max(1, started / 2);
      start(count, failure);
    }
    size_.store(count);
    if (count < asked)
      std::cerr << "warning: " << asked << " threads asked for (" << asked_by << "), but " << why
                << ": using " << count << " (the results are the same)\n";
  }

  void run(int64_t n, int64_t grain, const void* body, detail::RangeFn fn) {
    // One loop at a time; a second caller (another thread of the user's, or
    // a loop inside a loop) runs its loop alone.
    if (size() == 1 || tls_in_loop || n == 1) {
      fn(body, 0, n);
      return;
    }
    std::unique_lock<std::mutex> lock(run_mutex_, std::try_to_lock);
    if (!lock.owns_lock()) {
      fn(body, 0, n);
      return;
    }
    const Clock::time_point start = Clock::now();
    if (start < solo_until_) {
      // Helpers were late recently (the machine is busy with other work):
      // the caller alone is faster than waiting for them.
      fn(body, 0, n);
      return;
    }
    n_ = n;
    // Several chunks per thread, so that a helper that starts late still
    // finds work, and one that stops early leaves little behind.
    chunk_ = std::max(grain, n / (4 * static_cast<int64_t>(size())));
    body_ = body;
    fn_ = fn;
    next_.store(0);
    done_.store(0);
    open_.store(true);
    generation_.fetch_add(1);
    // A helper that has to be woken is late by the wake-up alone (tens of µs
    // on a VM), which says nothing about the machine being busy.
    const bool waking = sleepers_.load() > 0;
    if (waking) {
      std::lock_guard<std::mutex> sleep_lock(sleep_mutex_);
      wake_.notify_all();
    }
    tls_in_loop = true;
    take_chunks();
    tls_in_loop = false;
    // Wait for the chunks helpers have taken; then for helpers that are just
    // looking at the loop to leave it.
    const Clock::time_point own_done = Clock::now();
    wait_until([&] { return done_.load() >= n_; });
    open_.store(false);
    wait_until([&] { return active_.load() == 0; });
    // A healthy helper keeps the caller waiting for about one chunk at most
    // (a quarter of the caller's own share). Much longer means a helper was
    // preempted holding a chunk: then go solo for a while, and try again later.
    const Clock::time_point end = Clock::now();
    if (waking) {
      // Judged on the next loop, with the helpers awake.
    } else if (end - own_done > (own_done - start) / 2 + kLateHelper) {
      // Back off: the longer helpers keep being late, the longer we go solo.
      solo_until_ = end + solo_time_;
      solo_time_ = std::min<Clock::duration>(2 * solo_time_, kMaxSoloTime);
    } else {
      solo_time_ = kSoloTime;
    }
  }

 private:
  void stop_all() {
    stop_.store(true);
    generation_.fetch_add(1);
    {
      std::lock_guard<std::mutex> sleep_lock(sleep_mutex_);
      wake_.notify_all();
    }
    for (auto& t : workers_)
      t.join();
    workers_.clear();
    stop_.store(false);
  }

  // Starts helpers 1 .. count - 1; returns how many threads there are then,
  // the caller's included, with the reason in `failure` if fewer.
  int start(int count, std::string& failure) {
    const uint64_t now = generation_.load();
    for (int i = 1; i < count; ++i) {
      try {
        workers_.emplace_back([this, i, now] { work(i, now); });
      } catch (const std::system_error& e) {
        failure = e.code().message();
        return i;
      }
    }
    return count;
  }

  // How many threads' stacks fit in a quarter of what the address-space
  // limit leaves (the rest is for the work); no limit without one.
  static int threads_with_room() {
    rlimit as{}, stack{};
    if (getrlimit(RLIMIT_AS, &as) != 0 || as.rlim_cur == RLIM_INFINITY) return kMaxThreads;
    // glibc gives each thread a stack of RLIMIT_STACK (8 MiB when unlimited).
    uint64_t per_thread = uint64_t{8} << 20;
    if (getrlimit(RLIMIT_STACK, &stack) == 0 && stack.rlim_cur != RLIM_INFINITY)
      per_thread = std::max<uint64_t>(stack.rlim_cur, 1 << 16);
    const uint64_t room = as.rlim_cur / 4 / per_thread;
    return static_cast<int>(std::clamp<uint64_t>(room, 1, kMaxThreads));
  }

  template <typename Done>
  static void wait_until(Done done) {
    for (int spins = 0; !done(); ++spins) {
      if (spins < 4096)
        cpu_relax();
      else
        std::this_thread::yield();
    }
  }

  void take_chunks() {
    for (;;) {
      const int64_t begin = next_.fetch_add(chunk_);
      if (begin >= n_) return;
      const int64_t end = std::min(n_, begin + chunk_);
      fn_(body_, begin, end);
      done_.fetch_add(end - begin);
    }
  }

  // `seen`: the generation when the worker was made (a thread may start
  // late, after later loops or a stop).
  void work(int index, uint64_t seen) {
    tls_index = index;
    tls_in_loop = true;
    for (;;) {
      // Spin a little before sleeping: the next loop of a step usually
      // follows within microseconds.
      uint64_t now = generation_.load();
      for (int spins = 0; now == seen && spins < 4096; ++spins) {
        cpu_relax();
        now = generation_.load();
      }
      if (now == seen) {
        // Registered as a sleeper before looking at the generation once
        // more: a caller that publishes after that look sees the sleeper and
        // wakes it.
        std::unique_lock<std::mutex> sleep_lock(sleep_mutex_);
        sleepers_.fetch_add(1);
        wake_.wait(sleep_lock, [&] { return generation_.load() != seen || stop_.load(); });
        sleepers_.fetch_sub(1);
        now = generation_.load();
      }
      seen = now;
      if (stop_.load()) return;
      active_.fetch_add(1);
      // Registered: an open loop stays open (and its fields valid) until we leave.
      if (open_.load()) take_chunks();
      active_.fetch_sub(1);
    }
  }

  std::atomic<int> size_{1};
  std::vector<std::thread> workers_;
  std::mutex run_mutex_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> sleepers_{0};
  std::mutex sleep_mutex_;
  std::condition_variable wake_;
  std::atomic<bool> stop_{false};
  // The current loop; written only while no loop is open.
  const void* body_ = nullptr;
  detail::RangeFn fn_ = nullptr;
  int64_t n_ = 0, chunk_ = 1;
  Clock::time_point solo_until_{};  // until then, loops run on the caller alone
  Clock::duration solo_time_ = kSoloTime;
  std::atomic<bool> open_{false};
  alignas(64) std::atomic<int> active_{0};
  alignas(64) std::atomic<int64_t> next_{0};
  alignas(64) std::atomic<int64_t> done_{0};
};

// The default thread count: STRATA_NUM_THREADS, else OMP_NUM_THREADS (the
// variable users already set to limit libtorch, Eigen or BLAS), else the
// cores this process may run on.
std::pair<int, std::string> default_threads() {
  for (const char* name : {"STRATA_NUM_THREADS", "OMP_NUM_THREADS"}) {
    const char* value = std::getenv(name);
    if (!value || !*value) continue;
    // OMP_NUM_THREADS may be a list ("4,2", for nested levels): its first entry counts.
    char* end = nullptr;
    const long count = std::strtol(value, &end, 10);
    if (end == value || count < 1 || count > kMaxThreads || (*end && *end != ','))
      throw Error(std::string(name) + ": expected a thread count from 1 to " +
                  std::to_string(kMaxThreads) + ", got \"" + value + "\"");
    return {static_cast<int>(count), std::string(name) + "=" + value};
  }
  cpu_set_t cpus;
  if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0)
    return {std::max(1, CPU_COUNT(&cpus)), "one per core"};
  return {static_cast<int>(std::max(1u, std::thread::hardware_concurrency())), "one per core"};
}

// The pool, sized from the environment the first time it is needed, unless
// set_num_threads came first (then the environment is not read at all).
std::mutex config_mutex;
std::atomic<bool> configured{false};

Pool& unconfigured_pool() {
  static Pool p;
  return p;
}

Pool& pool() {
  Pool& p = unconfigured_pool();
  if (!configured.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(config_mutex);
    if (!configured.load()) {
      const auto [count, asked_by] = default_threads();
      p.resize(count, asked_by);
      configured.store(true, std::memory_order_release);
    }
  }
  return p;
}

}  // namespace

void set_num_threads(int count) {
  if (count < 1 || count > kMaxThreads)
    throw Error("thread count: expected from 1 to " + std::to_string(kMaxThreads) + ", got " +
                std::to_string(count));
  std::lock_guard<std::mutex> lock(config_mutex);
  unconfigured_pool().resize(count, "by set_num_threads");
  configured.store(true, std::memory_order_release);
}

int num_threads() {
  return pool().size();
}

int thread_index() {
  return tls_index;
}

namespace detail {

void run_parallel(int64_t n, int64_t grain, const void* body, RangeFn fn) {
  pool().run(n, std::max<int64_t>(1, grain), body, fn);
}

}  // namespace detail

}  // namespace strata
