# strata train --checkpoint / --resume, and SIGINT/SIGTERM: an interrupted
# training saves its state and exits with 130; resuming it reaches the same
# net, byte for byte, as a training that was never interrupted.
source "$(dirname "$0")/lib.sh"
IRIS=$DATA/iris.csv
NET=$DATA/cli/iris_net.json
ARGS=(--data "$IRIS" --validation-split 0.2 --method SGD --learning-rate 0.01 --momentum 0.9
  --batch-size 4 --seed 3)

ok train "$NET" "${ARGS[@]}" --rounds 20000 --quiet -o full.json

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
ok train --resume part2.json.checkpoint.json --data "$IRIS" --quiet -o resumed.json
out_has "wrote resumed.json"
cmp -s full.json resumed.json || fail "the resumed training differs from the uninterrupted one"

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
echo "checkpoint: all checks passed"
