#!/usr/bin/env bash
# Runs each libFuzzer target for a set time:
#   fuzz/run.sh BUILD_DIR SECONDS [TARGET...]      (targets: net_json npy csv onnx)
# Each starts from the seed corpus fuzz/corpus/<target> plus what earlier runs
# added in BUILD_DIR/corpus/<target>. A finding (crash, sanitizer report,
# leak, timeout, out-of-memory) is saved as BUILD_DIR/findings/<target>-*;
# reproduce it with BUILD_DIR/fuzz/fuzz_<target> FILE. Exits 1 if any target
# found something.
set -uo pipefail
cd "$(dirname "$0")/.."
build=$1
seconds=$2
shift 2
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(net_json npy csv)
  [ -x "$build/fuzz/fuzz_onnx" ] && targets+=(onnx)  # built with STRATA_ONNX
fi

# One thread: libFuzzer runs one input at a time, and a second thread would
# only add hand-offs (the pool itself is checked by make test-tsan).
export STRATA_NUM_THREADS=1
status=0
for t in "${targets[@]}"; do
  mkdir -p "$build/corpus/$t" "$build/findings"
  log="$build/findings/$t.log"
  echo "fuzz_$t: ${seconds}s (log: $log)"
  # -timeout: a single input taking longer is a hang; -rss_limit_mb also
  # bounds a single allocation (malloc_limit_mb defaults to it).
  if "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=8192 $([ -f "fuzz/$t.dict" ] && echo -dict="fuzz/$t.dict") -artifact_prefix="$build/findings/$t-" \
      -print_final_stats=1 "$build/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^Done' "$log" | sed 's/^/  /'
  else
    echo "fuzz_$t FOUND A PROBLEM:"
    tail -n 60 "$log"
    status=1
  fi
done
exit $status
