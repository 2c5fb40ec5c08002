# apply on a graph with two inputs and two outputs: --input and --output.
# Positive = Ramp(A); Leaky = LeakyRamp(B) with Alpha 0.5.
source "$(dirname "$0")/lib.sh"
NET=$DATA/cli/two_ports.json
A=$DATA/cli/a_2x2.json # [[1, -2], [3, 4]]
B=$DATA/cli/b_2x2.json # [[0.5, 1], [-5, 0.25]]

ok apply "$NET" --input "A=$A" --input "B=$B" --output Positive=p.json --output Leaky=l.npy
out_has "wrote p.json (Positive, shape [2, 2])" "wrote l.npy (Leaky, shape [2, 2])"
[[ $(json_shape p.json) == "2 2" && $(json_data p.json) == "1 0 3 4" ]] || fail "p.json: $(cat p.json)"
[[ $(npy_shape l.npy) == "(2, 2)" ]] || fail "l.npy shape: $(npy_shape l.npy)"
close_lists "$(npy_data l.npy 4)" "0.5 1 -2.5 0.25" 0

# Inputs in the other order; only one output asked for, only one written.
ok apply "$NET" --input "B=$B" --input "A=$A" --output Leaky=only.json
[[ $(json_data only.json) == "0.5 1 -2.5 0.25" ]] || fail "only.json: $(cat only.json)"
[[ $(ls | wc -l) -eq 5 ]] || fail "expected err, l.npy, only.json, out, p.json; got: $(ls)"

# A single-port net takes --input FILE and --output FILE too.
ok apply "$DATA/cli/linear_ramp.json" --input "$DATA/cli/x_2x3.json" --output single.json
[[ $(json_data single.json) == "0 3 4.5 0" ]] || fail "single.json: $(cat single.json)"
