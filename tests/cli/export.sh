# strata export NET -o MODEL.onnx: the model imports back and applies like the
# net, bit for bit; refusals are one line and write nothing.
source "$(dirname "$0")/lib.sh"

ok init "$DATA/nets/spec_graph.json" -o net.json --seed 1
ok export net.json -o model.onnx
out_has "exported net.json (NetGraph, opset 17)" "wrote model.onnx"
[[ -s model.onnx ]] || fail "export wrote no model"
ok export net.json -o model13.onnx --opset 13
out_has "opset 13"

# The exported model runs in strata (its importer) with the net's outputs.
awk 'BEGIN { printf "{\"shape\": [2, 8, 16, 16], \"data\": ["; for (i = 0; i < 4096; ++i) printf "%s%.4f", (i ? ", " : ""), sin(i); print "]}" }' >x.json
ok apply net.json x.json -o from_net.npy
ok apply model.onnx x.json -o from_model.npy
cmp -s from_net.npy from_model.npy || fail "the exported model gives other outputs"

# Refusals: Automatic arrays, an opset out of range; nothing is written.
mkdir out_dir
fails export "$DATA/nets/spec_graph.json" -o out_dir/m.onnx
err_has "spec_graph.json: conv (ConvolutionLayer): array Weights, Biases is Automatic"
empty_dir out_dir
fails export net.json -o out_dir/m.onnx --opset 12
empty_dir out_dir
