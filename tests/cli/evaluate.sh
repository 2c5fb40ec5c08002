# strata evaluate: loss, accuracy and the confusion matrix of a classifier;
# the loss alone for a regression; exact values on a hand-set net.
source "$(dirname "$0")/lib.sh"
IRIS=$DATA/iris.csv

ok train "$DATA/cli/iris_net.json" --data "$IRIS" --rounds 60 --learning-rate 0.02 \
  --batch-size 16 --seed 1 --quiet -o trained.json
ok evaluate trained.json --data "$IRIS"
out_has "examples  150" "(CrossEntropy)" \
  "confusion matrix (rows: target class, columns: predicted class)"
acc=$(sed -n 's/^accuracy *\([0-9.]*\)%.*/\1/p' out)
at_least "$acc" 90
# The matrix: 3 rows of 3 counts; each row holds the 50 examples of a class,
# and the diagonal is the number correct.
correct=$(sed -n 's/^accuracy.*(\([0-9]*\) of 150)$/\1/p' out)
sed -n '/^confusion matrix/,$p' out | tail -n +3 | awk -v correct="$correct" '
  { if (NF != 4) exit 1; s = $2 + $3 + $4; if (s != 50) exit 1; d += $(NR + 1); rows++ }
  END { if (rows != 3 || d != correct) exit 1 }' || fail "bad confusion matrix: $(cat out)"
# --batch-size does not change the result.
cp out full.txt
ok evaluate trained.json --data "$IRIS" --batch-size 7
cmp -s out full.txt || fail "--batch-size changed the evaluation"

# A regression: the loss only.
ok train "$DATA/cli/linear_model.json" --data "$DATA/cli/regression_inputs.npy" \
  --targets "$DATA/cli/regression_targets.npy" --method SGD --learning-rate 0.1 --rounds 100 \
  --batch-size 16 --quiet -o reg.json
ok evaluate reg.json --data "$DATA/cli/regression_inputs.npy" \
  --targets "$DATA/cli/regression_targets.npy"
out_has "examples  64" "(MeanSquared)"
! grep -q accuracy out || fail "a regression has no accuracy: $(cat out)"
loss=$(sed -n 's/^loss *\([^ ]*\) .*/\1/p' out)
at_most "$loss" 1e-6

# The hand-set net of linear_ramp.json gives [[0, 3], [4.5, 0]] for x_2x3.json:
# against those targets the loss is 0; with the first target 1 instead of 0 it
# is 1/4 (the mean over the 4 elements).
echo '{"shape": [2, 2], "data": [0, 3, 4.5, 0]}' >exact.json
echo '{"shape": [2, 2], "data": [1, 3, 4.5, 0]}' >off.json
ok evaluate "$DATA/cli/linear_ramp.json" --data "$DATA/cli/x_2x3.json" --targets exact.json
out_has "loss      0 (MeanSquared)"
ok evaluate "$DATA/cli/linear_ramp.json" --data "$DATA/cli/x_2x3.json" --targets off.json
out_has "loss      0.25 (MeanSquared)"
# --input-scale: doubling x doubles W x, so with the Biases [0.5, -1] the
# outputs are Ramp([[-3.5, 7], [8.5, 1]]) = [[0, 7], [8.5, 1]].
echo '{"shape": [2, 2], "data": [0, 7, 8.5, 1]}' >doubled.json
ok evaluate "$DATA/cli/linear_ramp.json" --data "$DATA/cli/x_2x3.json" --targets doubled.json \
  --input-scale 2
out_has "loss      0 (MeanSquared)"
