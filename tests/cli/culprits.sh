# The second battery of hostile input (issue 18), the cases whose message
# must name the culprit: NaN or infinity in tensor-file data, an
# --input-scale that makes inputs infinite, an --scale beyond float32, a
# path into an array, a CSV first row with a typo, and a NaN loss printed
# as "nan". Each one line, naming the file, flag or path, and nothing written.
source "$(dirname "$0")/lib.sh"
CLI=$DATA/cli
HOSTILE=$DATA/hostile_data
mkdir o

# ---- NaN and infinity in the data are refused at load, naming the element
fails train "$CLI/linear_model.json" --data "$HOSTILE/npy_nan_input.npy" \
  --targets "$CLI/regression_targets.npy" -o o/net.json
err_has "strata: $HOSTILE/npy_nan_input.npy: inputs[5, 1] (example 6) is nan; the data must be finite"
empty_dir o
fails train "$CLI/linear_model.json" --data "$CLI/regression_inputs.npy" \
  --targets "$HOSTILE/npy_infinite_target.npy" -o o/net.json
err_has "strata: $HOSTILE/npy_infinite_target.npy: targets[3, 0] (example 4) is -inf; the data must be finite"
# An --input-scale that makes an input infinite names the flag.
fails train "$CLI/linear_model.json" --data "$CLI/regression_inputs.npy" \
  --targets "$CLI/regression_targets.npy" --input-scale 1e39 -o o/net.json
err_has "strata: --input-scale 1e+39: $CLI/regression_inputs.npy: inputs[0, 0] (example 1) is" \
  "which this scale makes inf (beyond float32's range)"
fails train "$CLI/iris_net.json" --data "$DATA/iris.csv" --input-scale -1e38 -o o/net.json
err_has "strata: --input-scale -1e+38: $DATA/iris.csv: example 1, column 1 is 5.1, which this scale makes -inf"
empty_dir o

# ---- init --scale beyond float32 names the flag, not the net's Weights
fails init "$CLI/iris_net.json" --method Random --scale 1e39 -o o/net.json
err_has "strata: --scale 1e+39: expected a positive number of at most 1e+37 (the weights are float32)"
empty_dir o

# ---- a path into an array
fails extract "$CLI/linear_ramp.json" linear/Weights/0
err_has "strata: $CLI/linear_ramp.json: \"linear/Weights\" is an array; \"0\" cannot be taken from it (a path ends at an array, option or port)"

# ---- CSV: a first row with a typo is data, and its error says so
printf '5.1,3.5,1.4x,0.2,0\n4.9,3.0,1.4,0.2,0\n' >typo.csv
fails train "$CLI/iris_net.json" --data typo.csv -o o/net.json
err_has 'strata: typo.csv: line 1, column 3: "1.4x" is not a number (the first row has numbers, so it is data; if it is a header, say so with --header)'
empty_dir o
# --header takes it as one, --no-header refuses a header of names.
ok train "$CLI/iris_net.json" --data typo.csv --header --rounds 1 -o o/net.json
out_has "on 1 examples"
rm o/net.json
fails evaluate "$CLI/linear_ramp.json" --data "$DATA/iris.csv" --no-header
err_has "strata: $DATA/iris.csv: line 1, column 1: \"sepal_length\" is not a number"
fails train "$CLI/iris_net.json" --data typo.csv --header --no-header -o o/net.json
err_has "--header excludes --no-header"
# A header taken by the default rule is said on stderr, after the summary.
ok train "$CLI/iris_net.json" --data "$DATA/iris.csv" --rounds 1 -o o/net.json
grep -qF "strata: $DATA/iris.csv: line 1 taken as a header (sepal_length, sepal_width, petal_length, ...); --header or --no-header to say" err ||
  fail "no note of the header: $(cat err)"
ok train "$CLI/iris_net.json" --data "$DATA/iris.csv" --rounds 1 --header -o o/net.json
! grep -q "taken as a header" err || fail "--header still noted the header: $(cat err)"
rm o/net.json

# ---- a NaN loss is "nan", never "-nan" (x86's NaN of log(-1) is negative)
echo '{"format": "strata-net", "version": 1, "type": "NetChain", "Input": [2],
  "layers": [{"type": "ElementwiseLayer", "Function": "Log"}, {"type": "LinearLayer", "Size": 1}]}' >log.json
fails train log.json --data "$CLI/regression_inputs.npy" --targets "$CLI/regression_targets.npy" \
  --quiet -o o/net.json
err_has "strata: log.json: round 1, batch 1: the loss is nan; training stopped"
empty_dir o
echo "culprits: all checks passed"
