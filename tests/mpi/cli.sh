# strata train under mpirun: 2 and 3 processes train the digits net as one
# does (within float tolerance), rank 0 alone prints and writes; SIGTERM to
# mpirun leaves a checkpoint that resumes, with another number of
# processes, to the net of a training never interrupted; a process killed
# makes the others save their state and fail with a clear error.
#   bash cli.sh STRATA MPIEXEC SOURCE_DIR WORK_DIR
set -euo pipefail
STRATA=$1 MPIEXEC=$2 SRC=$3 WORK=$4
source "$SRC/tests/cli/lib.sh" "$STRATA" "$SRC/tests/data" "$WORK"
MPIRUN=(bash "$SRC/tests/mpi/mpirun.sh" "$MPIEXEC")

DIGITS=$SRC/examples/digits
NET=$DIGITS/net.json
head -n 240 "$DIGITS/digits_train.csv" >train.csv  # 15 batches of 16
ARGS=(--data train.csv --input-scale 0.0625 --method SGD --learning-rate 0.05 --momentum 0.9
  --batch-size 16 --seed 1)

# same_net A B: every number of net file B is that of A within TOLERANCE
# (the options, shapes and arrays in order); says the largest difference.
same_net() {
  grep -oE '[-+]?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?' "$1" >a.numbers
  grep -oE '[-+]?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?' "$2" >b.numbers
  (($(wc -l <a.numbers) == $(wc -l <b.numbers))) || fail "$1 and $2 hold different numbers of values"
  paste a.numbers b.numbers | awk -v tol=$TOLERANCE -v a="$1" -v b="$2" '
    { d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d }
    END { printf "%s vs %s: largest difference %.2e\n", a, b, m; exit !(m <= tol) }' ||
    fail "$2 differs from $1 by more than $TOLERANCE"
}
# Measured: the nets of 2 and 3 processes differ from one's by at most 2e-6
# (30 steps; the weights are about 0.1 in size), wrong shard weights by 1e-2.
TOLERANCE=1e-4

# mpi NP ARGS...: strata under mpirun must succeed; stdout in ./out, stderr in ./err.
mpi() {
  local np=$1 code=0
  shift
  "${MPIRUN[@]}" "$np" "$STRATA" "$@" >out 2>err || code=$?
  ((code == 0)) || { cat err >&2; fail "mpirun -np $np strata $* exited with $code"; }
}

ok train "$NET" "${ARGS[@]}" --rounds 2 --quiet -o one.json --loss-plot one.svg
for np in 2 3; do
  mpi $np train "$NET" "${ARGS[@]}" --rounds 2 --quiet -o np$np.json --loss-plot np$np.svg
  [[ $(grep -c '^wrote ' out) -eq 1 ]] || fail "np=$np: expected one 'wrote' line: $(cat out)"
  out_has "on $np processes" "wrote np$np.json and np$np.svg"
  [[ ! -s err ]] || fail "np=$np: unexpected messages: $(cat err)"
  [[ -s np$np.json && -s np$np.svg ]] || fail "np=$np: the net or the loss plot is missing"
  same_net one.json np$np.json
done
# Progress lines come from rank 0 alone.
mpi 2 train "$NET" "${ARGS[@]}" --rounds 2 -o lines.json
[[ $(grep -c '^round ' err) -eq 2 ]] || fail "expected 2 round lines (rank 0's): $(cat err)"

# position FILE: the round a checkpoint resumes at.
position() {
  local round
  # (A position in the middle of a round holds what that round had trained.)
  round=$(sed -n 's/.*"position":{"batch":[0-9]*,\("partial":{[^}]*},\)\{0,1\}"round":\([0-9]*\)}.*/\2/p' "$1")
  [[ -n $round ]] || fail "$1 has no position"
  echo "$round"
}

# start_long OUT: a training of many rounds under mpirun in the background
# (its pid in $pid), once rank 0 has reported 3 rounds.
start_long() {
  rm -f out err
  "${MPIRUN[@]}" 2 "$STRATA" train "$NET" "${ARGS[@]}" --rounds 100000 -o "$1" >out 2>err &
  pid=$!
  local tries=0
  until (($(grep -c '^round ' err 2>/dev/null || true) >= 3)); do
    sleep 0.05
    ((++tries < 600)) || fail "no round finished in 30 s: $(tail -3 err)"
  done
}

# SIGTERM to mpirun: every process stops after the same batch, rank 0 saves
# the state and they exit non-zero.
start_long part.json
kill -TERM $pid
code=0
wait $pid || code=$?
((code != 0)) || fail "mpirun exited with 0 after SIGTERM"
err_has "interrupted in round" "saved the training state to part.json.checkpoint.json" \
  "mpirun -np 2 strata train --resume part.json.checkpoint.json"
[[ $(grep -c "interrupted in round" err) -eq 1 ]] || fail "the interruption was reported more than once: $(cat err)"
[[ ! -e part.json ]] || fail "an interrupted training wrote its output"
# Resumed on 3 processes up to 2 rounds more: the net of an uninterrupted
# training of as many rounds on 2.
rounds=$(($(position part.json.checkpoint.json) + 2))
mpi 3 train --resume part.json.checkpoint.json --rounds $rounds --data train.csv --quiet -o resumed.json
out_has "on 3 processes"
mpi 2 train "$NET" "${ARGS[@]}" --rounds $rounds --quiet -o full.json
same_net full.json resumed.json

# A process killed: the other one saves its state and fails, naming the cause.
start_long dead.json
ranks=($(pgrep -P $pid -x strata))
((${#ranks[@]} == 2)) || fail "expected 2 strata processes under mpirun, found ${#ranks[@]}"
kill -KILL "${ranks[1]}"
code=0
wait $pid || code=$?
((code != 0)) || fail "mpirun exited with 0 after a process was killed"
# The kill finds rank 0 in whichever collective it was at: the gradients'
# allreduce, or at a round's start the order's (or validation's) broadcast.
grep -qE "strata: rank 0 of 2: MPI_(Allreduce|Bcast) did not complete" err ||
  fail "the message names no collective that did not complete: $(cat err)"
err_has "another process has stopped answering" "saved the training state" "dead.json.checkpoint.json"
[[ -s dead.json.checkpoint.json && ! -e dead.json ]] || fail "no checkpoint, or an output"
# Resumed on as many processes: byte for byte an uninterrupted training.
rounds=$(($(position dead.json.checkpoint.json) + 1))
mpi 2 train --resume dead.json.checkpoint.json --rounds $rounds --data train.csv --quiet -o revived.json
mpi 2 train "$NET" "${ARGS[@]}" --rounds $rounds --quiet -o uninterrupted.json
cmp -s uninterrupted.json revived.json || fail "the revived training differs from an uninterrupted one"
echo "mpi cli: all checks passed"
