# strata info on the spec's NetGraph example (needs TotalLayer).
source "$(dirname "$0")/lib.sh"

ok info "$DATA/nets/spec_graph.json"
out_has "NetGraph: Input [8, 16, 16] -> Output [8, 16, 16]" \
  "Weights [8, 8, 3, 3] (Automatic)" "TotalLayer" "total parameters: 600 (trainable: 600)"
