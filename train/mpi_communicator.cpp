#include "train/mpi_communicator.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <string>

#include "core/error.hpp"

#ifdef STRATA_HAS_MPI
// MPI's C API only, without its deprecated C++ bindings.
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>
#include <sched.h>
#endif

namespace strata {

bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK"})
    if (std::getenv(name)) return true;
  return false;
}

#ifdef STRATA_HAS_MPI

bool mpi_available() {
  return true;
}

namespace {

using Clock = std::chrono::steady_clock;

std::string error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) return "error " + std::to_string(code);
  return std::string(text, static_cast<size_t>(length));
}

}  // namespace

struct MpiCommunicator::State {
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0, size = 1;
  bool initialized_here = false;
  bool failed = false;
  const std::atomic<bool>* stop = nullptr;
  double grace = 0.25;

  [[noreturn]] void fail(const char* call, const std::string& why) {
    failed = true;
    throw CommunicationError("rank " + std::to_string(rank) + " of " + std::to_string(size) + ": " +
                             call + " " + why);
  }
  void check(int code, const char* call) {
    if (code != MPI_SUCCESS) fail(call, "failed: " + error_text(code));
  }
  // Waits for a non-blocking collective, watching the stop flag (see
  // abandon_after_stop). Yields between tests: processes may outnumber cores.
  void wait(MPI_Request& request, const char* call) {
    Clock::time_point stopped{};
    bool stopping = false;
    for (;;) {
      int done = 0;
      check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), call);
      if (done) return;
      if (stop && stop->load(std::memory_order_relaxed)) {
        const auto now = Clock::now();
        if (!stopping) {
          stopping = true;
          stopped = now;
        } else if (std::chrono::duration<double>(now - stopped).count() > grace) {
          fail(call, "did not complete within " + std::to_string(grace).substr(0, 4) +
                         " s of the stop signal: another process has stopped answering "
                         "(died or was killed)");
        }
      }
      sched_yield();
    }
  }
  // MPI counts are int: longer buffers go in pieces.
  template <typename T>
  void allreduce(T* data, int64_t count, MPI_Datatype type) {
    constexpr int64_t kMax = std::numeric_limits<int>::max();
    for (int64_t done = 0; done < count; done += kMax) {
      const int n = static_cast<int>(std::min(kMax, count - done));
      MPI_Request request;
      check(MPI_Iallreduce(MPI_IN_PLACE, data + done, n, type, MPI_SUM, comm, &request),
            "MPI_Allreduce");
      wait(request, "MPI_Allreduce");
    }
  }
};

MpiCommunicator::MpiCommunicator() : state_(std::make_unique<State>()) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
      throw Error("MPI: MPI_Init_thread failed");
    state_->initialized_here = true;
  }
  // A duplicate of MPI_COMM_WORLD, so that the error handler is ours alone.
  state_->check(MPI_Comm_dup(MPI_COMM_WORLD, &state_->comm), "MPI_Comm_dup");
  state_->check(MPI_Comm_set_errhandler(state_->comm, MPI_ERRORS_RETURN),
                "MPI_Comm_set_errhandler");
  MPI_Comm_rank(state_->comm, &state_->rank);
  MPI_Comm_size(state_->comm, &state_->size);
}

MpiCommunicator::~MpiCommunicator() {
  if (state_->failed) return;
  MPI_Comm_free(&state_->comm);
  if (state_->initialized_here) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }
}

int MpiCommunicator::rank() const {
  return state_->rank;
}

int MpiCommunicator::size() const {
  return state_->size;
}

void MpiCommunicator::allreduce_sum(float* data, int64_t count) {
  state_->allreduce(data, count, MPI_FLOAT);
}

void MpiCommunicator::allreduce_sum(double* data, int64_t count) {
  state_->allreduce(data, count, MPI_DOUBLE);
}

void MpiCommunicator::broadcast(void* data, int64_t bytes, int root) {
  constexpr int64_t kMax = std::numeric_limits<int>::max();
  auto* p = static_cast<char*>(data);
  for (int64_t done = 0; done < bytes; done += kMax) {
    MPI_Request request;
    state_->check(MPI_Ibcast(p + done, static_cast<int>(std::min(kMax, bytes - done)), MPI_BYTE,
                             root, state_->comm, &request),
                  "MPI_Bcast");
    state_->wait(request, "MPI_Bcast");
  }
}

void MpiCommunicator::abandon_after_stop(const std::atomic<bool>* stop, double grace_seconds) {
  state_->stop = stop;
  state_->grace = grace_seconds;
}

bool MpiCommunicator::failed() const {
  return state_->failed;
}

#else  // built without MPI: the communicator cannot be made.

bool mpi_available() {
  return false;
}

struct MpiCommunicator::State {};

MpiCommunicator::MpiCommunicator() {
  throw Error(
      "this strata was built without MPI: install libopenmpi-dev (make deps) and configure "
      "with -DSTRATA_MPI=ON");
}
MpiCommunicator::~MpiCommunicator() = default;
int MpiCommunicator::rank() const {
  return 0;
}
int MpiCommunicator::size() const {
  return 1;
}
void MpiCommunicator::allreduce_sum(float*, int64_t) {}
void MpiCommunicator::allreduce_sum(double*, int64_t) {}
void MpiCommunicator::broadcast(void*, int64_t, int) {}
void MpiCommunicator::abandon_after_stop(const std::atomic<bool>*, double) {}
bool MpiCommunicator::failed() const {
  return false;
}

#endif

}  // namespace strata
