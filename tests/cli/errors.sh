# Every user error: exit code 1, one line on stderr naming the file (or the
# option) and the problem, and no output written. Outputs go to the empty
# directory o/, checked after each failure.
source "$(dirname "$0")/lib.sh"
CLI=$DATA/cli
NET=$CLI/iris_net.json
IRIS=$DATA/iris.csv
mkdir o

# ---- missing files
fails info missing.json
err_has "missing.json" "No such file"
fails init missing.json -o o/net.json
err_has "missing.json"
empty_dir o
fails apply "$CLI/linear_ramp.json" missing.npy -o o/y.npy
err_has "missing.npy"
empty_dir o
fails train "$NET" --data missing.csv -o o/net.json
err_has "missing.csv"
empty_dir o
fails train "$CLI/linear_model.json" --data "$CLI/regression_inputs.npy" --targets missing.npy \
  -o o/net.json
err_has "missing.npy"
empty_dir o
fails evaluate "$CLI/linear_ramp.json" --data "$CLI/x_2x3.json" --targets missing.json
err_has "missing.json"

# ---- malformed nets: bad JSON (with line and column), an unknown key
fails info "$CLI/malformed.json"
err_has "malformed.json" "line 6, column 3"
fails init "$CLI/malformed.json" -o o/net.json
err_has "malformed.json"
empty_dir o
fails train "$CLI/malformed.json" --data "$IRIS" -o o/net.json
err_has "malformed.json"
empty_dir o
fails info "$CLI/unknown_key.json"
err_has "unknown_key.json" "layers[0]" '"Sise"'
echo '{"shape": [2, 3], "data": [1, 2]}' >short.json
fails apply "$CLI/linear_ramp.json" short.json -o o/y.json
err_has "short.json" "2 numbers" "[2, 3]"
empty_dir o

# ---- a bad thread count from the environment
STRATA_NUM_THREADS=0 fails train "$NET" --data "$IRIS" -o o/net.json
err_has "STRATA_NUM_THREADS" "from 1 to 1024" '"0"'
empty_dir o
STRATA_NUM_THREADS= OMP_NUM_THREADS=two fails apply "$CLI/linear_ramp.json" "$CLI/x_2x3.json" \
  -o o/y.json
err_has "OMP_NUM_THREADS" '"two"'
empty_dir o

# ---- unknown commands and options, missing and bad option values
fails frobnicate
err_has 'unknown command "frobnicate"' "info, init, apply, extract, train, evaluate"
fails
err_has "no command given"
fails --frobnicate
err_has "unknown option --frobnicate"
fails info --frobnicate "$NET"
err_has "--frobnicate" "strata info --help"
fails train "$NET" --data "$IRIS" -o o/net.json --frobnicate
err_has "--frobnicate"
empty_dir o
fails init "$NET"
err_has "--output is required"
fails train "$NET" --data "$IRIS" -o o/net.json --rounds 0
err_has "--rounds" "positive integer" '"0"'
fails train "$NET" --data "$IRIS" -o o/net.json --method Momentum
err_has "--method" '"MOMENTUM"' "SGD, ADAM"
fails train "$NET" --data "$IRIS" -o o/net.json --momentum 0.9
err_has "--momentum: applies to --method SGD only"
fails train "$NET" --data "$IRIS" -o o/net.json --method SGD --momentum 1.5
err_has "--momentum" "Momentum" "1.5"
fails train "$NET" --data "$IRIS" -o o/net.json --loss Hinge
err_has "--loss" '"Hinge"' "CrossEntropy, MeanSquared"
fails train "$NET" --data "$IRIS" -o o/net.json --schedule Step
err_has "--step-size"
fails train "$NET" --data "$IRIS" -o o/net.json --step-size 3
err_has "--step-size: applies to --schedule Step only"
fails train "$NET" --data "$IRIS" -o o/net.json --validation-split 1
err_has "--validation-split"
fails train "$NET" --data "$IRIS" -o o/net.json --validation-split 0.2 --validation "$IRIS"
err_has "--validation"
fails init "$NET" -o o/net.json --method Uniform
err_has "--method" '"Uniform"' "Automatic, Kaiming, Xavier, Random"
fails init "$NET" -o o/net.json --scale 0.1
err_has "--scale: applies to --method Random only"
fails init "$NET" -o o/net.json --seed -1
err_has "--seed" '"-1"'
fails train "$NET" --data "$IRIS" -o o/net.json --seed 18446744073709551616
err_has "--seed" "2^64 - 1"
empty_dir o

# ---- wrong input shapes
fails apply "$CLI/linear_ramp.json" "$CLI/batch_3x4.npy" -o o/y.npy
err_has "batch_3x4.npy" "[4]" "[3]"
empty_dir o
# One example without the batch dimension is accepted (tests/cli/labels.sh);
# a tensor that is neither an example nor a batch is not.
echo '{"shape": [1, 1, 3], "data": [1, 2, 3]}' >example.json
fails apply "$CLI/linear_ramp.json" example.json -o o/y.json
err_has "example.json" "not an example nor a batch" "[3]" "expected rank 1 (one example) or 2"
empty_dir o
fails apply "$CLI/two_ports.json" --input "A=$CLI/a_2x2.json" --input "B=$CLI/x_2x3.json" \
  --output Positive=o/p.json
err_has "x_2x3.json" "[3]" '"B"'
empty_dir o
fails apply "$CLI/two_ports.json" --input "A=$CLI/a_2x2.json" --output Positive=o/p.json
err_has "two_ports.json" '"B"'
fails apply "$CLI/two_ports.json" --input "A=$CLI/a_2x2.json" --input "C=$CLI/b_2x2.json" \
  --output Positive=o/p.json
err_has "two_ports.json" '"C"'
fails apply "$CLI/two_ports.json" --input "A=$CLI/a_2x2.json" --input "B=$CLI/b_2x2.json"
err_has "two_ports.json" "--output NAME=FILE" "Positive, Leaky"
fails train "$NET" --data "$CLI/x_2x3.json" --targets "$CLI/x_2x3.json" -o o/net.json
err_has "x_2x3.json" "[3]" "[4]"
empty_dir o

# ---- data that does not fit: feature count, targets count, class indices
fails train "$NET" --data "$DATA/csv/regression_crlf.csv" -o o/net.json
err_has "regression_crlf.csv" "5 features" "[4]"
empty_dir o
fails evaluate "$CLI/linear_ramp.json" --data "$IRIS"
err_has "iris.csv" "4 features" "[3]"
fails train "$CLI/linear_model.json" --data "$CLI/regression_inputs.npy" \
  --targets "$CLI/regression_targets_short.npy" -o o/net.json
err_has "regression_targets_short.npy" "63 targets" "64 examples"
empty_dir o
fails train "$CLI/linear_model.json" --data "$CLI/regression_inputs.npy" -o o/net.json
err_has "regression_inputs.npy" "--targets"
fails train "$NET" --data "$IRIS" --targets "$CLI/regression_targets.npy" -o o/net.json
err_has "--targets" "iris.csv"
# Two classes, but iris has a class 2.
sed 's/"Size": 3/"Size": 2/' "$NET" >two_classes.json
fails train two_classes.json --data "$IRIS" -o o/net.json
err_has "iris.csv" "example 101" "target 2" "from 0 to 1"
empty_dir o

# ---- nets without arrays, paths that do not exist
fails apply "$DATA/nets/spec_chain.json" "$CLI/x_2x3.json" -o o/y.json
err_has "spec_chain.json" "not initialized" "strata init"
empty_dir o
fails evaluate "$NET" --data "$IRIS"
err_has "iris_net.json" "not initialized" "strata init"
fails extract "$DATA/nets/spec_chain.json" conv1/Weights
err_has "spec_chain.json" "conv1/Weights" "strata init"
fails extract "$DATA/nets/spec_chain.json" conv9/Weights -o o/w.npy
err_has "spec_chain.json" '"conv9"' "conv1, norm1"
empty_dir o

# ---- outputs that cannot be written are refused before any work
fails init "$NET" -o nowhere/net.json
err_has "nowhere/net.json" "nowhere"
fails train "$NET" --data "$IRIS" -o o/net.json --loss-plot nowhere/plot.svg
err_has "nowhere/plot.svg"
empty_dir o
fails apply "$CLI/linear_ramp.json" "$CLI/x_2x3.json" -o o/y.txt
err_has "o/y.txt" ".txt" ".npy or .json"
empty_dir o
mkdir dir.json
fails extract "$CLI/linear_ramp.json" linear/Weights -o dir.json
err_has "dir.json" "is a directory"
fails extract "$CLI/linear_ramp.json" linear -o o/layer.npy
err_has "o/layer.npy" ".json"
empty_dir o

# ---- training that diverges writes nothing
fails train "$CLI/linear_model.json" --data "$CLI/regression_inputs.npy" \
  --targets "$CLI/regression_targets.npy" --method SGD --learning-rate 1000000 --quiet \
  -o o/net.json --loss-plot o/plot.svg
err_has "linear_model.json" "round" "NaN or infinite"
empty_dir o
