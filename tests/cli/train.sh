# strata train: a classifier from CSV (iris), a regression from .npy, the
# optimizer and schedule options, reproducibility, --input-scale.
source "$(dirname "$0")/lib.sh"
IRIS=$DATA/iris.csv
NET=$DATA/cli/iris_net.json
REG=$DATA/cli/linear_model.json
X=$DATA/cli/regression_inputs.npy
Y=$DATA/cli/regression_targets.npy

# accuracy: the validation accuracy in the summary, in percent.
accuracy() {
  sed -n 's/.*accuracy \([0-9.]*\)%.*/\1/p' out
}

# ---- iris: CSV with a header, 20% held out, Adam
ok train "$NET" --data "$IRIS" --validation-split 0.2 --rounds 60 --learning-rate 0.02 \
  --batch-size 16 --seed 1 --quiet -o trained.json
out_has "for 60 rounds on 120 examples (30 more held out for validation)" \
  "(CrossEntropy); validation loss" "examples/s" "wrote trained.json"
at_least "$(accuracy)" 90
[[ ! -s err ]] || fail "--quiet still wrote to stderr: $(cat err)"
ok info trained.json
! grep -q Automatic out || fail "the trained net has Automatic arrays"
# The same seed and data give the same bytes; another seed another net.
ok train "$NET" --data "$IRIS" --validation-split 0.2 --rounds 60 --learning-rate 0.02 \
  --batch-size 16 --seed 1 --quiet -o again.json
cmp -s trained.json again.json || fail "the same seed gave different nets"
# ... on any number of threads (the environment sets it).
STRATA_NUM_THREADS=1 ok train "$NET" --data "$IRIS" --validation-split 0.2 --rounds 60 \
  --learning-rate 0.02 --batch-size 16 --seed 1 --quiet -o one_thread.json
cmp -s trained.json one_thread.json || fail "1 thread gave another net than the default"
STRATA_NUM_THREADS=3 ok train "$NET" --data "$IRIS" --validation-split 0.2 --rounds 60 \
  --learning-rate 0.02 --batch-size 16 --seed 1 --quiet -o three_threads.json
cmp -s trained.json three_threads.json || fail "3 threads gave another net than the default"
ok train "$NET" --data "$IRIS" --validation-split 0.2 --rounds 60 --learning-rate 0.02 \
  --batch-size 16 --seed 2 --quiet -o other.json
! cmp -s trained.json other.json || fail "seeds 1 and 2 gave the same net"

# Without --quiet: one line per round on stderr.
ok train "$NET" --data "$IRIS" --rounds 3 -o three.json
[[ $(grep -c '^round ' err) -eq 3 ]] || fail "expected 3 round lines: $(cat err)"
out_has "for 3 rounds on 150 examples"

# ---- SGD with momentum, L2, clipping, a step schedule and a separate
# validation file
ok train "$NET" --data "$IRIS" --validation "$IRIS" --method SGD --learning-rate 0.02 \
  --momentum 0.9 --l2 0.0001 --gradient-clipping 5 --schedule Step --step-size 40 --gamma 0.5 \
  --rounds 100 --batch-size 10 --seed 1 --quiet -o sgd.json
at_least "$(accuracy)" 95
# A cosine schedule with Adam and scaled inputs.
ok train "$NET" --data "$IRIS" --validation "$IRIS" --schedule Cosine --learning-rate 0.05 \
  --input-scale 0.25 --rounds 60 --batch-size 16 --quiet -o cosine.json
at_least "$(accuracy)" 90

# ---- regression from .npy files: y = 2 x1 - x2 + 0.5 is recovered
ok train "$REG" --data "$X" --targets "$Y" --method SGD --learning-rate 0.1 --rounds 100 \
  --batch-size 16 --quiet -o reg.json
out_has "(MeanSquared)"
! grep -q accuracy out || fail "a regression has no accuracy: $(cat out)"
ok extract reg.json linear/Weights
close_lists "$(json_data out)" "2 -1" 1e-3
ok extract reg.json linear/Biases
close_lists "$(json_data out)" "0.5" 1e-3
# With the inputs halved the weights double: --input-scale is applied.
ok train "$REG" --data "$X" --targets "$Y" --method SGD --learning-rate 0.1 --rounds 200 \
  --batch-size 16 --input-scale 0.5 --quiet -o reg_half.json
ok extract reg_half.json linear/Weights
close_lists "$(json_data out)" "4 -2" 1e-3
# An explicit --loss, and .npy validation data with --validation-targets.
ok train "$REG" --data "$X" --targets "$Y" --validation "$X" --validation-targets "$Y" \
  --loss MeanSquared --rounds 5 --quiet -o reg5.json
out_has "(MeanSquared); validation loss"

# --no-shuffle: from the same initial net, the seed no longer matters (it
# only orders the examples here); with shuffling it does.
ok init "$REG" -o start.json --seed 1
for seed in 1 2; do
  ok train start.json --data "$X" --targets "$Y" --rounds 3 --batch-size 8 --seed "$seed" \
    --no-shuffle --quiet -o "fixed$seed.json"
  ok train start.json --data "$X" --targets "$Y" --rounds 3 --batch-size 8 --seed "$seed" \
    --quiet -o "shuffled$seed.json"
done
cmp -s fixed1.json fixed2.json || fail "--no-shuffle: the seed changed the result"
! cmp -s shuffled1.json shuffled2.json || fail "shuffling: the seed did not change the result"

# A loss that diverges: one warning line naming the round and the loss
# against its start, also with --quiet; none for a calm training.
ok train "$NET" --data "$IRIS" --learning-rate 50 --rounds 10 -o wild.json
[[ $(grep -c '^warning: ' err) -eq 1 ]] || fail "expected one divergence warning: $(cat err)"
err_has "warning: round 1: loss 33.7546 is " "times the first batch's" \
  "the learning rate is likely too large: try a smaller one (--learning-rate)"
ok train "$NET" --data "$IRIS" --learning-rate 50 --rounds 10 --quiet -o wild.json
[[ $(wc -l <err) -eq 1 ]] || fail "--quiet: expected the warning alone: $(cat err)"
err_has "warning: round 1: loss 33.7546"
[[ -s wild.json ]] || fail "a diverged training still writes its net"
ok train "$NET" --data "$IRIS" --learning-rate 0.05 --rounds 10 -o calm.json
! grep -q '^warning' err || fail "a calm training was warned: $(cat err)"

