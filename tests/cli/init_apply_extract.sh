# init, then apply and extract, on the spec's chain and on nets with arrays
# set by hand (whose outputs are worked out by hand below).
source "$(dirname "$0")/lib.sh"
NET=$DATA/nets/spec_chain.json
CLI=$DATA/cli

# ---- init
ok init "$NET" -o init.json --seed 3
out_has "initialized 6 arrays (698 values) with Automatic, seed 3" "wrote init.json"
ok info init.json
! grep -q Automatic out || fail "init left arrays Automatic: $(cat out)"
# The same seed gives the same bytes; another seed other arrays.
ok init "$NET" -o again.json --seed 3
cmp -s init.json again.json || fail "the same seed gave different nets"
ok init "$NET" -o other.json --seed 4
! cmp -s init.json other.json || fail "seeds 3 and 4 gave the same net"
# Biases start at 0 and Gamma at 1.
ok extract init.json 6/Biases
[[ $(json_data out) == "0 0 0 0 0 0 0 0 0 0" ]] || fail "6/Biases: $(cat out)"
ok extract init.json norm1/Gamma
[[ $(json_data out) == "1 1 1 1" ]] || fail "norm1/Gamma: $(cat out)"
# Random with --scale: the 640 weights have a standard deviation near the scale.
ok init "$NET" -o random.json --method Random --scale 0.5 --seed 3
ok extract random.json 6/Weights
std=$(json_data out | tr ' ' '\n' | awk '{ s += $1 * $1; n++ } END { print sqrt(s / n) }')
at_least "$std" 0.45
at_most "$std" 0.55
# A net with every array set is copied unchanged; --reinitialize replaces them.
ok init init.json -o same.json
out_has "nothing initialized"
cmp -s init.json same.json || fail "init changed a net that had every array"
ok init init.json -o re.json --reinitialize --seed 9
out_has "initialized 6 arrays (698 values)"
! cmp -s init.json re.json || fail "--reinitialize kept the arrays"

# ---- extract: an array as .npy, as .json and on stdout; an option; a layer
ok extract init.json conv1/Weights -o w.npy
out_has "wrote w.npy (conv1/Weights, shape [4, 1, 3, 3])"
[[ $(npy_shape w.npy) == "(4, 1, 3, 3)" ]] || fail "w.npy shape: $(npy_shape w.npy)"
ok extract init.json conv1/Weights -o w.json
[[ $(json_shape w.json) == "4 1 3 3" ]] || fail "w.json shape: $(json_shape w.json)"
ok extract init.json conv1/Weights
cmp -s out w.json || fail "extract to stdout and to w.json differ"
close_lists "$(json_data w.json)" "$(npy_data w.npy 36)" 1e-6
json_data w.json | tr ' ' '\n' | grep -qv '^-\?0$' || fail "conv1/Weights are all zero"
ok extract init.json norm1/Epsilon
[[ $(cat out) == "1e-05" ]] || fail "norm1/Epsilon: $(cat out)"
ok extract init.json conv1/OutputChannels
[[ $(cat out) == "4" ]] || fail "conv1/OutputChannels: $(cat out)"
ok extract init.json conv1 -o conv1.json
ok info conv1.json
out_has "ConvolutionLayer: Input [1, 8, 8] -> Output [4, 8, 8]"
ok extract conv1.json Weights
cmp -s out w.json || fail "the extracted layer's Weights differ from the net's"

# ---- apply: two 8x8 images give two rows of 10 probabilities
data=$(awk 'BEGIN { for (i = 0; i < 128; i++) printf "%s%g", (i ? "," : ""), (i % 7 - 3) / 3 }')
echo "{\"shape\": [2, 1, 8, 8], \"data\": [$data]}" >x.json
ok apply init.json x.json -o y.json
out_has "wrote y.json (Output, shape [2, 10])"
[[ $(json_shape y.json) == "2 10" ]] || fail "y.json shape: $(json_shape y.json)"
json_data y.json | awk '{
  for (r = 0; r < 2; r++) {
    s = 0
    for (i = 1; i <= 10; i++) { v = $(r * 10 + i); if (v <= 0 || v >= 1) exit 1; s += v }
    if (s < 0.99999 || s > 1.00001) exit 1
  }
}' || fail "rows of y.json are not probabilities: $(cat y.json)"
ok apply init.json x.json
cmp -s out y.json || fail "apply to stdout and to y.json differ"
ok apply init.json x.json -o y.npy
[[ $(npy_shape y.npy) == "(2, 10)" ]] || fail "y.npy shape: $(npy_shape y.npy)"
close_lists "$(json_data y.json)" "$(npy_data y.npy 20)" 1e-6

# ---- a net with hand-set arrays: Weights [[1, 0, -1], [2, 1, 0]], Biases
# [0.5, -1], then Ramp. For x = [1, 2, 3]: [1 - 3 + 0.5, 2 + 2 - 1] = [-1.5, 3]
# -> [0, 3]; for x = [0, 1, -4]: [4 + 0.5, 1 - 1] = [4.5, 0].
ok apply "$CLI/linear_ramp.json" "$CLI/x_2x3.json" -o hand.json
[[ $(json_shape hand.json) == "2 2" ]] || fail "hand.json shape: $(json_shape hand.json)"
[[ $(json_data hand.json) == "0 3 4.5 0" ]] || fail "hand.json: $(cat hand.json)"
ok apply "$CLI/linear_ramp.json" "$CLI/x_2x3.json" -o hand.npy
[[ $(npy_shape hand.npy) == "(2, 2)" ]] || fail "hand.npy shape: $(npy_shape hand.npy)"
close_lists "$(npy_data hand.npy 4)" "0 3 4.5 0" 0
# The linear layer alone, extracted as a net file: the values before the Ramp.
ok extract "$CLI/linear_ramp.json" linear -o linear.json
ok apply linear.json "$CLI/x_2x3.json"
[[ $(json_data out) == "-1.5 3 4.5 0" ]] || fail "the extracted layer gave: $(cat out)"
ok extract "$CLI/linear_ramp.json" linear/Weights
[[ $(json_shape out) == "2 3" && $(json_data out) == "1 0 -1 2 1 0" ]] ||
  fail "linear/Weights: $(cat out)"
# A batch of one example.
echo '{"shape": [1, 3], "data": [1, 2, 3]}' >one.json
ok apply "$CLI/linear_ramp.json" one.json
[[ $(json_shape out) == "1 2" && $(json_data out) == "0 3" ]] || fail "one example: $(cat out)"
