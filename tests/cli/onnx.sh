# strata import / info / apply / train on PyTorch-exported ONNX models
# (tests/data/onnx, made by make_models.py): outputs equal PyTorch's.
source "$(dirname "$0")/lib.sh"
M="$DATA/onnx"

# apply on the .onnx file directly: PyTorch's outputs (1e-4 abs + 1e-3 rel of values below 1).
for name in mlp_opset11 resnet_opset13 mobilenet_opset17 conv3d_opset17 unet_opset13 style_opset17 \
  bilinear_opset13 prelu_lrn_opset13; do
  ok apply "$M/$name.onnx" "$M/$name.input.npy" -o "$name.npy"
  n=$(($(stat -c %s "$M/$name.output.npy") / 4 - 32))
  ((n > 100)) && n=100
  close_lists "$(npy_data "$name.npy" $n)" "$(npy_data "$M/$name.output.npy" $n)" 0.0011
done

# import writes a net file that gives the same outputs, bit for bit.
ok import "$M/resnet_opset13.onnx" -o resnet.json
out_has "NetGraph" "wrote resnet.json"
ok apply resnet.json "$M/resnet_opset13.input.npy" -o from_json.npy
cmp -s from_json.npy resnet_opset13.npy || fail "the imported net file gives other outputs"

ok info "$M/mobilenet_opset11.onnx"
out_has "NetChain: Input [4, 8, 8] -> Output [6, 4, 4]" "depthwise_Conv" "Weights [12, 1, 3, 3]"

# --input-shape: checked against the model.
ok import "$M/mlp_opset11.onnx" -o mlp.json --input-shape input=3,4
fails import "$M/mlp_opset11.onnx" -o mlp.json --input-shape input=3,5
err_has "dimension 2 is 4 in the model"
fails import "$M/mlp_opset11.onnx" -o mlp.json --input-shape nope=3,4
err_has "the graph has no input of that name"
fails import "$M/mlp_opset11.onnx" -o mlp.json --input-shape input=3,x
err_has "expected NAME=d1,d2"

# Fine-tuning the model directly.
ok train "$M/resnet_opset13.onnx" --data "$M/resnet_opset13.input.npy" \
  --targets "$M/resnet_opset13.output.npy" --rounds 3 --batch-size 2 -o tuned.json
[[ -s tuned.json ]] || fail "train wrote no net"

# Not a model: one line.
printf 'not a protobuf at all' >bad.onnx
fails apply bad.onnx "$M/mlp_opset11.input.npy" -o y.npy
err_has "bad.onnx: not an ONNX model"
ok import --help
out_has "--input-shape" "strata import resnet.onnx -o resnet.json"
