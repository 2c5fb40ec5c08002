# The second edition's layers from the command line: info, init, train and
# apply on a net of every new layer type (tests/data/cli/new_layers_net.json:
# Padding Reflected, LRN, ParametricRamp, Swish, Deconvolution, Resize Linear,
# Clip, ConstantTimes, ConstantPlus, Threading, Aggregation), and their user
# errors (one line, exit code 1).
source "$(dirname "$0")/lib.sh"
CLI=$DATA/cli
NET=$CLI/new_layers_net.json
X=$CLI/new_layers_inputs.npy
Y=$CLI/new_layers_targets.npy

# ---- info: every layer, its shapes and arrays
ok info "$NET"
out_has "NetGraph: Input [2, 8, 8] -> Output [3]" \
  "PaddingLayer                     [2, 8, 8]            [2, 10, 10]" \
  "LocalResponseNormalizationLayer  [4, 8, 8]            [4, 8, 8]" \
  "ParametricRampLayer              [4, 8, 8]            [4, 8, 8]    Slope [4] (Automatic)" \
  "DeconvolutionLayer               [4, 8, 8]            [4, 16, 16]  Weights [4, 4, 3, 3] (Automatic)" \
  "ResizeLayer                      [4, 16, 16]          [4, 8, 8]" \
  "ConstantTimesLayer               [4, 8, 8]            [4, 8, 8]    Scaling [4, 8, 8] (Automatic)" \
  "ConstantPlusLayer                [4, 8, 8]            [4, 8, 8]    Biases [4, 1, 1]" \
  "ThreadingLayer                   [4, 8, 8] [4, 8, 8]  [4, 8, 8]" \
  "AggregationLayer                 [4, 8, 8]            [4]" \
  "total parameters: 503 (trainable: 503)" "8 arrays are Automatic"
[[ $(grep -c ElementwiseLayer out) -eq 2 ]] || fail "expected the Swish and Clip layers: $(cat out)"

# ---- init: every array created; PReLU's Slope starts at 0.25
ok init "$NET" -o init.json --seed 1
out_has "initialized 8 arrays (499 values)"
ok info init.json
! grep -q Automatic out || fail "init left arrays Automatic: $(cat out)"
ok extract init.json prelu/Slope
[[ $(json_data out) == "0.25 0.25 0.25 0.25" ]] || fail "prelu/Slope: $(cat out)"
# ConstantTimes' Automatic Scaling is ones of the example's shape; the given
# [4, 1, 1] Biases of ConstantPlus are kept.
ok extract init.json times/Scaling
[[ $(json_shape out) == "4 8 8" ]] || fail "times/Scaling: $(json_shape out)"
[[ $(json_data out | tr ' ' '\n' | sort -u) == 1 ]] || fail "times/Scaling is not all 1"
ok extract init.json plus/Biases
[[ $(json_shape out) == "4 1 1" && $(json_data out) == "0 0 0 0" ]] || fail "plus/Biases: $(cat out)"

# ---- train: the loss falls, the result does not depend on the thread count
ok train init.json --data "$X" --targets "$Y" --rounds 8 --batch-size 6 --learning-rate 0.02 \
  --seed 1 -o trained.json
out_has "for 8 rounds on 30 examples" "(CrossEntropy)"
losses=$(sed -n 's/^round *[0-9]*\/8 *loss \([0-9.e+-]*\).*/\1/p' err | tr '\n' ' ')
[[ $(wc -w <<<"$losses") -eq 8 ]] || fail "expected 8 round losses: $(cat err)"
first=$(awk '{ print $1 }' <<<"$losses")
last=$(awk '{ print $NF }' <<<"$losses")
at_most "$last" "$(awk -v f="$first" 'BEGIN { print f / 4 }')"
STRATA_NUM_THREADS=1 ok train init.json --data "$X" --targets "$Y" --rounds 8 --batch-size 6 \
  --learning-rate 0.02 --seed 1 --quiet -o one_thread.json
cmp -s trained.json one_thread.json || fail "1 thread gave another net than the default"
# Every array was trained (the Slope, the deconvolution's Biases, the
# Scaling and the broadcast Biases too).
ok extract trained.json prelu/Slope
[[ $(json_data out) != "0.25 0.25 0.25 0.25" ]] || fail "prelu/Slope did not change"
ok extract trained.json deconv/Biases
json_data out | tr ' ' '\n' | grep -qv '^-\?0$' || fail "deconv/Biases stayed 0: $(cat out)"
ok extract trained.json times/Scaling
[[ $(json_data out | tr ' ' '\n' | sort -u) != 1 ]] || fail "times/Scaling stayed 1"
ok extract trained.json plus/Biases
[[ $(json_shape out) == "4 1 1" ]] || fail "plus/Biases changed shape: $(cat out)"
json_data out | tr ' ' '\n' | grep -qv '^-\?0$' || fail "plus/Biases stayed 0: $(cat out)"

# ---- apply: a row of 3 probabilities per image; the training images are learnt
ok apply trained.json "$X" -o y.npy
out_has "wrote y.npy (Output, shape [30, 3])"
ok apply trained.json "$X"
[[ $(json_shape out) == "30 3" ]] || fail "apply: $(cat out)"
# The class of image i is i mod 3 (make_cli_data.py): count the arg-maxes.
right=$(json_data out | tr ' ' '\n' | awk '{ p[(NR - 1) % 3] = $1 }
  NR % 3 == 0 { best = 0; for (k = 1; k < 3; k++) if (p[k] > p[best]) best = k
                if (best == (NR / 3 - 1) % 3) right++ } END { print right + 0 }')
at_least "$right" 27

# ---- errors: one line naming the layer and the problem, exit code 1
net() {  # net INPUT LAYER: a one-layer chain
  echo "{\"format\": \"strata-net\", \"version\": 1, \"type\": \"NetChain\", \"Input\": $1, \"layers\": [$2]}"
}
net "[2, 3, 3]" '{"name": "pad", "type": "PaddingLayer", "PaddingSize": [[0, 0], [3, 3], [1, 1]], "Padding": "Reflected"}' >wide.json
fails info wide.json
err_has "wide.json" "pad (PaddingLayer)" "Reflected padding must be smaller than the dimension" \
  "has size 3 and is padded by [3, 3]"
# ... also when the size is known only from the data
net "[2, null, null]" '{"name": "pad", "type": "PaddingLayer", "PaddingSize": [[0, 0], [3, 3], [1, 1]], "Padding": "Reflected"}' >open.json
echo '{"shape": [1, 2, 3, 3], "data": [1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9]}' >x.json
fails apply open.json x.json
err_has "pad (PaddingLayer)" "Reflected padding must be smaller"
net "[2, 3, 3]" '{"name": "up", "type": "ResizeLayer", "Dimensions": [0, 4]}' >zero.json
fails info zero.json
err_has "zero.json" "(up)" "Dimensions" "size 0"
net "[2, 3, 3]" '{"name": "clip", "type": "ElementwiseLayer", "Function": "Clip"}' >clip.json
fails init clip.json -o never.json
err_has "clip.json" "(clip)" "Range: required option is missing for Clip"
net "[5]" '{"name": "agg", "type": "AggregationLayer", "Function": "Mean"}' >agg.json
fails info agg.json
err_has "agg (AggregationLayer)" "expected rank 2 or more"
net "[2, 3, 3]" '{"name": "d", "type": "DeconvolutionLayer", "OutputChannels": 2, "KernelSize": 3, "Stride": 2, "OutputPadding": 2}' >outpad.json
fails info outpad.json
err_has "(d)" "OutputPadding" "less than Stride"
net "[4, 8, 8]" '{"name": "times", "type": "ConstantTimesLayer", "Scaling": {"shape": [3], "data": [1, 2, 3]}}' >scaling.json
fails info scaling.json
err_has "times (ConstantTimesLayer)" "Scaling: [3] does not broadcast to the Input's [4, 8, 8]"
echo '{"format": "strata-net", "version": 1, "type": "NetGraph", "Inputs": {"A": [4, 8, 8], "B": [3, 8, 8]},
  "layers": [{"name": "t", "type": "ThreadingLayer", "Function": "Times"}],
  "connections": [["#A", "t"], ["#B", "t"], ["t", "#Output"]]}' >threading.json
fails info threading.json
err_has "t (ThreadingLayer)" "[4, 8, 8] and [3, 8, 8] do not broadcast"
# Log of negative inputs while training: NaN stops it, naming round and batch.
net "[2, 8, 8]" '{"name": "log", "type": "ElementwiseLayer", "Function": "Log"}, {"type": "AggregationLayer", "Function": "Mean"}, {"type": "LinearLayer", "Size": 3}, {"type": "SoftmaxLayer"}' >log.json
fails train log.json --data "$X" --targets "$Y" --rounds 2 --quiet -o never.json
err_has "round 1, batch 1" "nan" "training stopped"
[[ ! -e never.json ]] || fail "a failed command wrote never.json"
