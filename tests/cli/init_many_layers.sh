# `strata init` of a chain of 100000 layers (200000 arrays) is linear in the
# layers: about 4 s. It was quadratic (each array's path compared with every
# other's), over a minute; the ctest TIMEOUT of this scenario
# (tests/cli/CMakeLists.txt) is generous for linear and hopeless for that.
source "$(dirname "$0")/lib.sh"

awk 'BEGIN {
  printf "{\"format\": \"strata-net\", \"version\": 1, \"type\": \"NetChain\", \"Input\": [2], \"layers\": ["
  for (i = 0; i < 100000; i++) printf "%s{\"type\": \"LinearLayer\", \"Size\": 2}", (i ? ", " : "")
  print "]}"
}' >chain.json
ok init chain.json -o initialized.json --seed 3
out_has "initialized 200000 arrays (600000 values) with Automatic, seed 3"
ok info initialized.json
out_has "total parameters: 600000"
