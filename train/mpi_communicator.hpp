// The Communicator of the processes an MPI launcher started (mpirun -np 4
// strata train …, or a hostfile across machines): MPI_COMM_WORLD through
// MPI's C API. Available when strata is built with MPI (CMake option
// STRATA_MPI, on when CMake finds MPI); mpi_available() says whether it was.
//
//   MpiCommunicator comm;  // initializes MPI
//   NetTrain(net, data, {.communicator = &comm}, sgd);
//
// MPI is called from the thread that made the communicator only
// (MPI_THREAD_FUNNELED); strata's own threads never call it.
#pragma once

#include <atomic>
#include <memory>

#include "core/communicator.hpp"

namespace strata {

class MpiCommunicator final : public Communicator {
 public:
  // Initializes MPI unless it already is, on a duplicate of MPI_COMM_WORLD
  // whose errors are returned (MPI_ERRORS_RETURN) rather than aborting the
  // job, so that a failed collective is a CommunicationError and the
  // training can save its state. An Error when built without MPI.
  MpiCommunicator();
  // Finalizes MPI if this communicator initialized it and no collective was
  // abandoned (finalizing then would wait for the process that is gone).
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override;
  int size() const override;
  void allreduce_sum(float* data, int64_t count) override;
  void allreduce_sum(double* data, int64_t count) override;
  void broadcast(void* data, int64_t bytes, int root = 0) override;

  // Once `*stop` is true (SIGTERM), a collective that has not completed
  // `grace_seconds` later is abandoned with a CommunicationError: a process
  // that died leaves its peers waiting forever, and mpirun, which forwards
  // SIGTERM to every process, kills them 1 s later (its
  // odls_base_sigkill_timeout), so the grace must leave time to save a
  // checkpoint. Processes that are all alive finish their collective within
  // the grace and stop together. `stop` must outlive the communicator.
  void abandon_after_stop(const std::atomic<bool>* stop, double grace_seconds = 0.25);
  // Whether a collective failed or was abandoned.
  bool failed() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Whether this strata was built with MPI.
bool mpi_available();
// Whether this process was started by an MPI launcher (Open MPI's mpirun,
// MPICH's mpiexec, Slurm's srun), from the environment they set.
bool launched_by_mpi();

}  // namespace strata
