# Helpers for the command-line scenarios, sourced by each of them. A scenario
# runs as
#   bash SCENARIO.sh STRATA DATA_DIR WORK_DIR
# (STRATA the binary, DATA_DIR tests/data) in a fresh WORK_DIR, and stops with
# "FAIL: reason" and exit code 1 at the first check that does not hold.
set -euo pipefail

STRATA=$1
DATA=$2
WORK=$3
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# ok ARGS...: strata must succeed. Its stdout is left in ./out, stderr in ./err.
ok() {
  local code=0
  "$STRATA" "$@" >out 2>err || code=$?
  if ((code != 0)); then
    cat err >&2
    fail "strata $* exited with $code"
  fi
}

# fails ARGS...: strata must fail as a user error: exit code 1, nothing on
# stdout, exactly one line on stderr, "strata: ...", and no crash.
fails() {
  local code=0
  "$STRATA" "$@" >out 2>err || code=$?
  if ((code != 1)); then
    cat err >&2
    fail "strata $*: exit code $code, expected 1"
  fi
  [[ $(wc -l <err) -eq 1 ]] || fail "strata $*: expected one line on stderr, got: $(cat err)"
  grep -q '^strata: ' err || fail "strata $*: the message does not start with 'strata: ': $(cat err)"
  [[ ! -s out ]] || fail "strata $*: wrote to stdout although it failed: $(cat out)"
}

# err_has TEXT...: the error message holds each TEXT.
err_has() {
  local t
  for t in "$@"; do
    grep -qF -- "$t" err || fail "the message lacks \"$t\": $(cat err)"
  done
}

# out_has TEXT...: the standard output holds each TEXT.
out_has() {
  local t
  for t in "$@"; do
    grep -qF -- "$t" out || fail "the output lacks \"$t\": $(cat out)"
  done
}

# empty_dir DIR: nothing was written there, not even a temporary file.
empty_dir() {
  [[ -z $(ls -A "$1") ]] || fail "$1 should be empty but holds: $(ls -A "$1")"
}

# json_shape FILE: the shape of a one-line JSON tensor file, as "2 3".
json_shape() {
  sed -n 's/.*"shape": *\[\([^]]*\)\].*/\1/p' "$1" | tr -d ' ' | tr ',' ' '
}

# json_data FILE: the numbers of a one-line JSON tensor file, space-separated.
json_data() {
  sed -n 's/.*"data": *\[\([^]]*\)\].*/\1/p' "$1" | tr -d ' ' | tr ',' ' '
}

# npy_shape FILE: the shape in a .npy header, as "(2, 3)".
npy_shape() {
  grep -ao "'shape': ([^)]*)" "$1" | sed "s/'shape': //"
}

# npy_data FILE COUNT: the last COUNT float32 values of a .npy file.
npy_data() {
  tail -c $((4 * $2)) "$1" | od -An -v -tf4 | tr -s ' \n' '  ' | sed 's/^ //; s/ $//'
}

# close_lists "A1 A2 ..." "B1 B2 ..." TOLERANCE: the same count of numbers,
# pairwise within the tolerance.
close_lists() {
  awk -v a="$1" -v b="$2" -v tol="$3" 'BEGIN {
    n = split(a, x, " "); m = split(b, y, " ")
    if (n != m) { print "counts differ: " n " vs " m; exit 1 }
    for (i = 1; i <= n; i++) {
      d = x[i] - y[i]; if (d < 0) d = -d
      if (d > tol) { print "element " i ": " x[i] " vs " y[i]; exit 1 }
    }
  }' || fail "numbers differ: [$1] vs [$2] (tolerance $3)"
}

# at_least VALUE MINIMUM: a number is at least a minimum.
at_least() {
  awk -v v="$1" -v m="$2" 'BEGIN { exit !(v + 0 >= m + 0) }' || fail "$1 is below $2"
}

# at_most VALUE MAXIMUM
at_most() {
  awk -v v="$1" -v m="$2" 'BEGIN { exit !(v + 0 <= m + 0) }' || fail "$1 is above $2"
}
