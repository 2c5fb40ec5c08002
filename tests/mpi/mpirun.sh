# mpirun as the tests need it on a small machine or in a container:
#   bash mpirun.sh MPIEXEC NP PROGRAM ARGS...
# --oversubscribe: more processes than cores; --allow-run-as-root only when
# root (Open MPI refuses root otherwise); shared memory and loopback only,
# without the single-copy mechanism that containers often forbid (ptrace).
set -euo pipefail
MPIEXEC=$1 NP=$2
shift 2
flags=(--oversubscribe --mca btl self,vader --mca btl_vader_single_copy_mechanism none)
if [[ $(id -u) -eq 0 ]]; then
  flags+=(--allow-run-as-root)
fi
# One thread per process: the processes share the cores.
export STRATA_NUM_THREADS=${STRATA_NUM_THREADS:-1}
exec "$MPIEXEC" "${flags[@]}" -np "$NP" "$@"
