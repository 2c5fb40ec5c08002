# Memory and time stay bounded (issue 18): what cannot fit is refused up front
# with one line naming it, endless or oversized files are refused at a
# limit, and too many threads for the address space are cut down with a
# warning. Each case: the exit code, the one line and nothing written.
source "$(dirname "$0")/lib.sh"
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
(
  ulimit -v 1000000
  fails init linear.json -o o/net.json
  err_has "this process can have (what the address-space limit (ulimit -v) leaves)"
)
empty_dir o
