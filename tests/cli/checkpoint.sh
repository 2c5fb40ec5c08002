# strata train --checkpoint / --resume, and SIGINT/SIGTERM: an interrupted
# training saves its state and exits with 130; resuming it reaches the same
# net, byte for byte, as a training that was never interrupted.
source "$(dirname "$0")/lib.sh"
IRIS=$DATA/iris.csv
NET=$DATA/cli/iris_net.json
ARGS=(--data "$IRIS" --validation-split 0.2 --method SGD --learning-rate 0.01 --momentum 0.9
  --batch-size 4 --seed 3)

ok train "$NET" "${ARGS[@]}" --rounds 20000 --quiet -o full.json --loss-plot full.svg

# interrupt SIGNAL OUT ARGS...: runs strata train in the background, sends
# SIGNAL once it has finished a few rounds, and expects exit code 130.
interrupt() {
  local signal=$1 output=$2
  shift 2
  rm -f out err
  "$STRATA" train "$@" -o "$output" >out 2>err &
  local pid=$! tries=0
  until (($(grep -c '^round ' err 2>/dev/null || true) >= 5)); do
    sleep 0.05
    ((++tries < 400)) || fail "no round finished in 20 s: $(tail -3 err)"
  done
  kill -s "$signal" "$pid"
  local code=0
  wait "$pid" || code=$?
  ((code == 130)) || fail "after SIG$signal: exit code $code, expected 130: $(tail -2 err)"
  err_has "interrupted in round" "saved the training state to $output.checkpoint.json" \
    "strata train --resume $output.checkpoint.json"
  [[ ! -e $output ]] || fail "an interrupted training wrote its output $output"
  [[ -s $output.checkpoint.json ]] || fail "no checkpoint $output.checkpoint.json"
}

interrupt INT part.json "$NET" "${ARGS[@]}" --rounds 20000
# The resumed training is interrupted again, by SIGTERM, and resumed again.
interrupt TERM part2.json --resume part.json.checkpoint.json --data "$IRIS"
ok train --resume part2.json.checkpoint.json --data "$IRIS" --quiet -o resumed.json \
  --loss-plot resumed.svg
out_has "wrote resumed.json"
cmp -s full.json resumed.json || fail "the resumed training differs from the uninterrupted one"
# Each interrupted round is counted once: in the summary, and in the plot
# (the same losses, to the bit, as the uninterrupted training's).
out_has "for 20000 rounds"
cmp -s full.svg resumed.svg || fail "the resumed training's loss plot differs"

# Interrupted with --checkpoint: the checkpoint keeps its history file (the
# rounds already there) and the position within the round.
rm -f out err
"$STRATA" train "$NET" "${ARGS[@]}" --rounds 20000 --checkpoint cki.json -o parti.json >out 2>err &
pid=$! tries=0
until (($(grep -c '^round ' err 2>/dev/null || true) >= 5)); do
  sleep 0.05
  ((++tries < 400)) || fail "no round finished in 20 s: $(tail -3 err)"
done
kill -INT "$pid"
code=0
wait "$pid" || code=$?
((code == 130)) || fail "interrupted with --checkpoint: exit code $code: $(tail -2 err)"
err_has "saved the training state to cki.json"
grep -q '"history":{"file":"cki.json.history-' cki.json || fail "cki.json has no history file"
ok train --resume cki.json --data "$IRIS" --quiet -o resumedi.json --loss-plot resumedi.svg
cmp -s full.json resumedi.json || fail "the training interrupted with --checkpoint differs"
cmp -s full.svg resumedi.svg || fail "its loss plot differs"

# ---- A second signal during the save waits for it; a third exits at once.
# Either way no temporary file is left. A net of a million weights makes the
# save long enough to send the signals while its temporary file is there.
# (SIGTERM: a script's background job ignores SIGINT, which hid the bug.)
awk 'BEGIN { srand(1); for (i = 0; i < 16; ++i) { for (j = 0; j < 1000; ++j) printf "%.3f,", rand(); print i % 2 } }' >wide.csv
echo '{"format": "strata-net", "version": 1, "type": "NetChain", "Input": [1000], "layers": [
  {"type": "LinearLayer", "Size": 1000}, {"type": "LinearLayer", "Size": 2}, {"type": "SoftmaxLayer"}]}' >wide.json
for signals in 2 3; do
  mkdir "sig$signals"
  (
    cd "sig$signals"
    "$STRATA" train ../wide.json --data ../wide.csv --rounds 100000 --batch-size 4 --method SGD \
      --momentum 0.9 --learning-rate 0.001 -o wide.json >out 2>err &
    pid=$! tries=0
    until (($(grep -c '^round ' err 2>/dev/null || true) >= 2)); do
      sleep 0.05
      ((++tries < 400)) || fail "no round finished in 20 s: $(tail -3 err)"
    done
    kill -TERM "$pid"
    tries=0
    until ls -A | grep -q '\.tmp-'; do
      sleep 0.002
      ((++tries < 5000)) || fail "the interrupted training's save was not seen"
    done
    for ((i = 1; i < signals; ++i)); do kill -TERM "$pid"; done
    code=0
    wait "$pid" || code=$?
    ((code == 130)) || fail "after $signals signals: exit code $code, expected 130: $(tail -2 err)"
    [[ -z $(ls -A | grep -F '.tmp-') ]] || fail "$signals signals left a temporary file: $(ls -A)"
    if ((signals == 2)); then
      grep -q "saved the training state to wide.json.checkpoint.json" err || fail "$(cat err)"
      [[ $(tail -c 2 wide.json.checkpoint.json) == "}" ]] || fail "the checkpoint is damaged"
    fi
  )
done

# --checkpoint after every round; a complete training cannot be resumed.
ok train "$NET" "${ARGS[@]}" --rounds 3 --checkpoint ck.json --quiet -o three.json
grep -q '"position":{"batch":0,"round":4}' ck.json || fail "ck.json is not at round 4"
fails train --resume ck.json --data "$IRIS" -o again.json
err_has "ck.json: this training is complete (3 rounds)" "continue with --rounds N (more than 3)"
# The settings come from the checkpoint; the net too.
ok train "$NET" "${ARGS[@]}" --rounds 6 --checkpoint ck6.json --quiet -o six.json
# --rounds continues a finished training: 3 then 3 more is the 6-round net.
ok train --resume ck.json --rounds 6 --data "$IRIS" --quiet -o three_more.json
out_has "for 6 rounds"
cmp -s six.json three_more.json || fail "3 rounds resumed to 6 differ from 6 rounds in one run"
fails train --resume ck6.json --rounds 5 --data "$IRIS" -o again.json
err_has "--rounds 5: ck6.json has 6 rounds trained already"
ok train "$NET" "${ARGS[@]}" --rounds 2 --schedule Cosine --checkpoint cos.json --quiet -o cos.json.net
fails train --resume cos.json --rounds 4 --data "$IRIS" -o again.json
err_has "--rounds 4: cos.json decays the learning rate over 2 rounds (--schedule Cosine)"
fails train --resume ck.json --data "$IRIS" --learning-rate 0.1 -o again.json
err_has "--learning-rate: with --resume the training's settings come from the checkpoint"
fails train "$NET" --resume ck.json --data "$IRIS" -o again.json
err_has "give either NET or --resume CHECKPOINT, not both"
fails train --data "$IRIS" -o again.json
err_has "give the net file NET, or --resume CHECKPOINT"
fails train --resume "$DATA/cli/iris_net.json" --data "$IRIS" -o again.json
err_has "not a strata checkpoint"
[[ ! -e again.json ]] || fail "a failed resume wrote again.json"

# ---- --checkpoint keeps the history in an append-only file beside it: the
# checkpoint's size does not grow with the rounds.
grep -q '"history":{"file":"ck.json.history-[0-9a-f]*","rounds":3}' ck.json ||
  fail "ck.json does not refer to its history file: $(grep -o '"history":[^]]*' ck.json | head -c 200)"
ok train "$NET" "${ARGS[@]}" --rounds 300 --checkpoint ck300.json --quiet -o n300.json
at_most "$(stat -c %s ck300.json)" "$(($(stat -c %s ck.json) + 400))"
(($(ls ck300.json.history-* | wc -l) == 1)) || fail "history files: $(ls ck300.json.history-*)"
(($(wc -l <ck300.json.history-*) == 300)) || fail "the history file does not hold 300 rounds"
# A training started again at the same path replaces the old history file.
ok train "$NET" "${ARGS[@]}" --rounds 2 --checkpoint ck300.json --quiet -o n2.json
(($(ls ck300.json.history-* | wc -l) == 1)) || fail "the old history file was kept"
# Resuming carries the history over: the summary counts all the rounds.
ok train --resume ck.json --rounds 5 --checkpoint ck5.json --data "$IRIS" --quiet -o five.json
out_has "for 5 rounds"
grep -q '"rounds":5}' ck5.json || fail "ck5.json does not count 5 rounds"

# ---- Edited checkpoints: every field is checked, and the file named.
sed 's/"position":{"batch":0,"round":4}/"position":{"batch":0,"round":99999999999}/' ck.json >e1.json
fails train --resume e1.json --data "$IRIS" -o again.json
err_has "strata: e1.json: position.round: expected an integer from 1 to 2147483646, got 99999999999"
sed 's/"rounds":3}/"rounds":2}/; s/"position":{"batch":0,"round":4}/"position":{"batch":999,"round":3}/' \
  ck.json >e2.json
fails train --resume e2.json --data "$IRIS" -o again.json
err_has "strata: e2.json: position: batch 999 is past the end of round 3 (30 batches of 4 examples)"
sed 's/"Biases":{"data":\[[^]]*\],"shape":\[16\]},//' ck.json >e3.json
fails train --resume e3.json --data "$IRIS" -o again.json
err_has "strata: e3.json: net: arrays missing: hidden/Biases (a checkpoint's net has every array)"
sed 's/"0\.Velocity"/"TMP"/; s/"1\.Velocity"/"0.Velocity"/; s/"TMP"/"1.Velocity"/' ck.json >e4.json
fails train --resume e4.json --rounds 6 --data "$IRIS" -o again.json
err_has "strata: e4.json: optimizer.tensors.0.Velocity: shape [16], but array 0, hidden/Weights, has shape [16, 4] (the optimizer state is another net's)"
# Another architecture: the net's arrays no longer fit it.
sed 's/"Size":16/"Size":8/' ck.json >e5.json
fails train --resume e5.json --data "$IRIS" -o again.json
err_has "strata: e5.json: net: " "hidden" "Weights"
sed 's/"batch_size":4/"batch_size":0/' ck.json >e6.json
fails train --resume e6.json --data "$IRIS" -o again.json
err_has "strata: e6.json: settings.batch_size: expected an integer from 1 to 2147483647, got 0"
sed 's/"loss":"CrossEntropy"/"loss":"Hinge"/' ck.json >e7.json
fails train --resume e7.json --data "$IRIS" -o again.json
err_has "strata: e7.json: settings.loss: " '"Hinge"'
sed 's/"initial_rate":[^,]*,/"initial_rate":"fast",/' ck.json >e8.json
fails train --resume e8.json --rounds 6 --data "$IRIS" -o again.json
err_has 'strata: e8.json: settings.initial_rate: expected a finite number of 0 or more, got "fast"'
[[ ! -e again.json ]] || fail "a failed resume wrote again.json"

# ---- The data's fingerprint: --resume on other data is refused, or allowed
# with --allow-other-data and a warning.
sed '2s/^5.1,/5.2,/' "$IRIS" >other.csv
fails train --resume ck.json --rounds 4 --data other.csv -o again.json
err_has "strata: --data: ck.json was trained on other data (150 examples, fingerprint" \
  ") than other.csv (150 examples, fingerprint" "give the same data, or --allow-other-data"
ok train --resume ck.json --rounds 4 --data other.csv --allow-other-data --quiet -o other.json
grep -q "strata: warning: ck.json was trained on other data" err || fail "no warning: $(cat err)"
# A checkpoint from before fingerprints: accepted, with a warning.
sed 's/"data":{"examples":150,"fingerprint":"[0-9a-f]*"},//' ck.json >old.json
grep -q fingerprint old.json && fail "old.json still has a fingerprint"
ok train --resume old.json --rounds 4 --data "$IRIS" --quiet -o old_resumed.json
grep -q "strata: warning: old.json was written by an older strata, without a fingerprint" err ||
  fail "no warning for an old checkpoint: $(cat err)"
echo "checkpoint: all checks passed"
