# Data-parallel throughput on this machine: the main job's training (the
# digits net, batch 16, SGD) as 1 process × 2 threads, 1 process × 1 thread
# and 2 processes × 1 thread (mpirun), then the time per allreduce of its
# gradient buffer and of larger ones (strata_allreduce_bench).
#   bash bench/mpi/distributed.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build}
ROUNDS=${2:-3}
STRATA=$BUILD/cli/strata
BENCH=$BUILD/bench/mpi/strata_allreduce_bench
MPIRUN=(bash "$SRC/tests/mpi/mpirun.sh" mpirun)
DIGITS=$SRC/examples/digits
ARGS=(train "$DIGITS/net.json" --data "$DIGITS/digits_train.csv" --input-scale 0.0625
  --method SGD --learning-rate 0.05 --momentum 0.9 --l2 0.003 --batch-size 16
  --rounds "$ROUNDS" --seed 1 --quiet)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

rate() { sed -n 's/^\([0-9]*\) examples\/s.*/\1/p' "$1"; }

echo "main job, $ROUNDS rounds of 1500 examples (examples/s, training only):"
STRATA_NUM_THREADS=2 "$STRATA" "${ARGS[@]}" -o "$OUT/a.json" >"$OUT/a"
echo "  1 process  x 2 threads: $(rate "$OUT/a")"
STRATA_NUM_THREADS=1 "$STRATA" "${ARGS[@]}" -o "$OUT/b.json" >"$OUT/b"
echo "  1 process  x 1 thread:  $(rate "$OUT/b")"
STRATA_NUM_THREADS=1 "${MPIRUN[@]}" 2 "$STRATA" "${ARGS[@]}" -o "$OUT/c.json" >"$OUT/c"
echo "  2 processes x 1 thread: $(rate "$OUT/c")"
echo
"${MPIRUN[@]}" 2 "$BENCH"
