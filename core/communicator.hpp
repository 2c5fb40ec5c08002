// The processes of a data-parallel training, and the collective operations
// they use: sums across processes and copies from one process to the rest.
// NetTrain (TrainOptions::communicator) and BatchNormalizationLayer
// (RunContext::communicator) take one; the implementation on MPI is in
// train/mpi_communicator.hpp. Without a communicator, nothing is shared.
//
// Every process must make the same calls in the same order (collectives):
// a call that one process skips leaves the others waiting.
#pragma once

#include <cstdint>
#include <string>

#include "core/error.hpp"

namespace strata {

// A collective failed or was abandoned (another process died or stopped
// answering). Training stops; what the process holds is the state from
// before the step that failed.
class CommunicationError : public Error {
 public:
  using Error::Error;
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  // This process's rank, in [0, size()).
  virtual int rank() const = 0;
  // The number of processes.
  virtual int size() const = 0;

  // Element-wise sum across processes, in place: afterwards every process
  // holds the sums. The order of the additions may differ from a sequential
  // sum, but every process gets the same values.
  virtual void allreduce_sum(float* data, int64_t count) = 0;
  virtual void allreduce_sum(double* data, int64_t count) = 0;
  // Copies `bytes` bytes of `root`'s buffer into every other process's.
  virtual void broadcast(void* data, int64_t bytes, int root = 0) = 0;
};

// The communicator of a process training alone: sums and broadcasts leave
// the data as it is.
class SelfCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allreduce_sum(float*, int64_t) override {}
  void allreduce_sum(double*, int64_t) override {}
  void broadcast(void*, int64_t, int) override {}
};

// Whether `comm` shares work with other processes (not null, more than one).
inline bool is_distributed(const Communicator* comm) {
  return comm && comm->size() > 1;
}

}  // namespace strata
