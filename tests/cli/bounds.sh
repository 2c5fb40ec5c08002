# Memory and time stay bounded (issue 18): what cannot fit is refused up front
# with one line naming it, endless or oversized files are refused at a
# limit, and too many threads for the address space are cut down with a
# warning. Each case: the exit code, the one line and nothing written.
source "$(dirname "$0")/lib.sh"
# AddressSanitizer reserves terabytes of address space for its shadow memory,
# so a binary built with it cannot start under ulimit -v: the cases with an
# address-space limit run in the normal build only (make test), and say so.
limits_address_space() {
  if [[ ${STRATA_SANITIZED:-0} == 1 ]]; then
    echo "not run under AddressSanitizer: a case under ulimit -v (make test runs it)"
    return 1
  fi
}
mkdir o

# ---- init of arrays beyond the memory: refused before any is made
cat >linear.json <<'JSON'
{"format": "strata-net", "version": 1, "type": "NetChain", "Input": [4],
 "layers": [{"type": "LinearLayer", "Size": 1000000000, "name": "hidden"}]}
JSON
fails init linear.json -o o/net.json
err_has "linear.json: the initialized net, 5000000000 values (the largest array hidden/Weights [1000000000, 4] (LinearLayer)), built as JSON to be written, needs 205 GiB (220000000000 bytes), more than the"
empty_dir o
cat >conv.json <<'JSON'
{"format": "strata-net", "version": 1, "type": "NetChain", "Input": [1000, 8, 8],
 "layers": [{"type": "ConvolutionLayer", "OutputChannels": 1000000, "KernelSize": 3}]}
JSON
fails init conv.json -o o/net.json
err_has "conv.json: the initialized net" "1/Weights [1000000, 1000, 3, 3] (ConvolutionLayer)" "needs 369 GiB (396044000000 bytes)"
empty_dir o
# Under an address-space limit, the limit is named.
if limits_address_space; then
  (
    ulimit -v 1000000
    fails init linear.json -o o/net.json
    err_has "this process can have (what the address-space limit (ulimit -v) leaves)"
  )
fi
empty_dir o

# ---- devices, endless pipes and oversized files where a file is needed
CLI=$DATA/cli
NET=$CLI/linear_ramp.json
ln -s /dev/zero zero.json
ln -s /dev/urandom random.npy
ln -s /dev/zero zero.csv
fails info /dev/zero
err_has "strata: /dev/zero: cannot read: not a regular file or a pipe (a character device)"
fails info zero.json
err_has "strata: zero.json: cannot read: not a regular file or a pipe (a character device)"
fails apply "$NET" random.npy -o o/y.npy
err_has "strata: random.npy: cannot read: not a regular file or a pipe (a character device)"
fails train "$DATA/cli/iris_net.json" --data zero.csv -o o/net.json
err_has "strata: zero.csv: cannot read: not a regular file or a pipe (a character device)"
fails evaluate "$NET" --data "$CLI/x_2x3.json" --targets random.npy
err_has "strata: random.npy: cannot read"
fails train --resume zero.json --data "$DATA/iris.csv" -o o/net.json
err_has "strata: zero.json: cannot read"
fails edit "$NET" -o o/net.json --class-labels @zero.json
err_has "zero.json: cannot read: not a regular file or a pipe (a character device)"
empty_dir o

# A pipe is read (a shell's <(...)), up to the limit; here 1 MiB, for speed.
mkfifo net.json
cat /dev/zero >net.json &
STRATA_MAX_FILE_SIZE=1M fails info net.json
err_has "strata: net.json: more than the 1 MiB strata reads from one file came from this pipe (the environment's STRATA_MAX_FILE_SIZE raises the limit)"
wait
# The default limit holds as well (2 GiB of zeros: a second or two).
cat /dev/zero >net.json &
fails info net.json
err_has "strata: net.json: more than the 2 GiB strata reads from one file came from this pipe"
wait
mkfifo x.npy
cat /dev/zero >x.npy &
fails apply "$NET" x.npy -o o/y.npy
err_has 'strata: x.npy: not a .npy file: it starts with "\x00\x00\x00\x00\x00\x00\x00\x00"'
wait
# A valid array, then zeros without end: the .npy header says where it ends.
ok init "$CLI/iris_net.json" -o iris.json
{ cat "$CLI/batch_3x4.npy"; cat /dev/zero; } >x.npy &
fails apply iris.json x.npy -o o/y.npy
err_has "strata: x.npy: unexpected data after the array: shape (3, 4) of '<f4' needs 48 bytes of data, but more than 1048624 came from the pipe"
wait
# ... while a valid array through a pipe is read.
mkfifo x.json
printf '{"shape": [1, 3], "data": [1, -2, 3]}' >x.json &
ok apply "$NET" x.json
rm x.json
wait
out_has '"shape": [1, 2]'
empty_dir o

# Regular files beyond the limits: 2 GiB for text, 16 GiB for .npy (sparse
# files, no disk used), refused before they are read.
truncate -s 3G huge.json
fails info huge.json
err_has "strata: huge.json: 3 GiB (3221225472 bytes), more than the 2 GiB strata reads from one file (the environment's STRATA_MAX_FILE_SIZE raises the limit)"
truncate -s 17G huge.npy
fails apply "$NET" huge.npy -o o/y.npy
err_has "strata: huge.npy: 17 GiB (18253611008 bytes), more than the 16 GiB strata reads from one file"
truncate -s 3G huge.csv
fails train "$CLI/iris_net.json" --data huge.csv -o o/net.json
err_has "strata: huge.csv: 3 GiB (3221225472 bytes), more than the 2 GiB"
STRATA_MAX_FILE_SIZE=100 fails info "$CLI/iris_net.json"
err_has "iris_net.json:" "bytes), more than the 100 bytes strata reads from one file"
STRATA_MAX_FILE_SIZE=lots fails info "$CLI/iris_net.json"
err_has 'STRATA_MAX_FILE_SIZE: expected a positive number of bytes (or with a K, M, G or T suffix: 8G), got "lots"'
rm huge.json huge.npy huge.csv
empty_dir o

# ---- more threads than the address space has room for: fewer, with a warning
if limits_address_space; then
  (
    ulimit -v 2000000
    STRATA_NUM_THREADS=1024 ok apply "$NET" "$CLI/x_2x3.json"
    err_has "warning: 1024 threads asked for (STRATA_NUM_THREADS=1024), but the address-space limit (ulimit -v) leaves room for the stacks of" "(the results are the same)"
    [[ $(wc -l <err) -eq 1 ]] || fail "expected one warning line: $(cat err)"
    cp out threads.out
  )
  STRATA_NUM_THREADS=1 ok apply "$NET" "$CLI/x_2x3.json"
  cmp -s out threads.out || fail "fewer threads changed the output"
fi

# ---- apply in batches: memory does not grow with the examples. 50000 digits
# (zeros; a .npy written here) took 2 GB in one pass; in batches they run
# under a 1.5 GB address-space limit, and the output streams to the file.
ok init "$DATA/../../examples/digits/net.json" -o digits.json
{
  printf '\x93NUMPY\x01\x00\x76\x00'
  printf "%-117s\n" "{'descr': '<f4', 'fortran_order': False, 'shape': (50000, 1, 8, 8), }"
  head -c $((50000 * 64 * 4)) /dev/zero
} >many.npy
if limits_address_space; then
  (
    ulimit -v 1500000
    ok apply digits.json many.npy -o o/y.npy
  )
else
  ok apply digits.json many.npy -o o/y.npy
fi
out_has "wrote o/y.npy (Output, shape [50000, 10])"
[[ $(npy_shape o/y.npy) == "(50000, 10)" ]] || fail "shape $(npy_shape o/y.npy)"
[[ $(wc -c <o/y.npy) -eq $((128 + 50000 * 10 * 4)) ]] || fail "o/y.npy has $(wc -c <o/y.npy) bytes"
# The same examples alike in every batch: each output row is the first.
[[ $(tail -c 40 o/y.npy | od -An -tx1) == $(head -c 168 o/y.npy | tail -c 40 | od -An -tx1) ]] ||
  fail "the last example's output differs from the first's"
# --batch-size, and JSON written in pieces, give what one batch gives (a linear net).
awk 'BEGIN { printf "{\"shape\": [1000, 3], \"data\": ["; for (i = 0; i < 3000; i++) printf "%s%d", (i ? "," : ""), i % 17 - 8; print "]}" }' >xs.json
ok apply "$NET" xs.json -o o/small.json --batch-size 7
ok apply "$NET" xs.json -o o/one.json --batch-size 1000
cmp -s o/small.json o/one.json || fail "--batch-size 7 changed the JSON output"
ok apply "$NET" xs.json --batch-size 3
cmp -s out o/one.json || fail "standard output differs from the file"
fails apply "$NET" xs.json --batch-size 0
err_has "--batch-size" "positive integer"
rm -f o/*

# ---- an empty path names what is wrong
fails info ""
err_has 'strata: "": an empty path where a file is needed'
fails edit "" -o o/net.json
err_has '"": an empty path where a file is needed'
