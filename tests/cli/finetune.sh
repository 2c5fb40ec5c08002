# strata train --freeze and --learning-rate-multipliers: frozen arrays come
# out byte for byte as they went in, the two spellings agree, and a pattern
# that matches nothing is named.
source "$(dirname "$0")/lib.sh"
IRIS=$DATA/iris.csv
NET=$DATA/cli/iris_net.json

ok init "$NET" --seed 3 -o start.json
ok extract start.json hidden/Weights -o hidden_before.json
ok extract start.json scores/Weights -o scores_before.json

ok train start.json --data "$IRIS" --rounds 5 --method SGD --learning-rate 0.05 --momentum 0.9 \
  --l2 0.01 --seed 1 --quiet --freeze hidden -o frozen.json
ok extract frozen.json hidden/Weights -o hidden_after.json
ok extract frozen.json scores/Weights -o scores_after.json
cmp -s hidden_before.json hidden_after.json || fail "--freeze hidden changed hidden/Weights"
! cmp -s scores_before.json scores_after.json || fail "scores/Weights did not train"

# The same with the long form, the first match winning over the default.
ok train start.json --data "$IRIS" --rounds 5 --method SGD --learning-rate 0.05 --momentum 0.9 \
  --l2 0.01 --seed 1 --quiet --learning-rate-multipliers 'hidden=0, _=1' -o long.json
cmp -s frozen.json long.json || fail "--learning-rate-multipliers 'hidden=0,_=1' differs from --freeze hidden"
# By position: the first layer is hidden.
ok train start.json --data "$IRIS" --rounds 5 --method SGD --learning-rate 0.05 --momentum 0.9 \
  --l2 0.01 --seed 1 --quiet --learning-rate-multipliers '1=0' -o position.json
cmp -s frozen.json position.json || fail "--learning-rate-multipliers 1=0 differs from --freeze hidden"
# Everything frozen but the head, with a doubled rate there: still trains.
ok train start.json --data "$IRIS" --rounds 5 --seed 1 --quiet \
  --learning-rate-multipliers 'scores=2,_=0' -o head.json
ok extract head.json hidden/Weights -o hidden_head.json
cmp -s hidden_before.json hidden_head.json || fail "_=0 changed hidden/Weights"

fails train start.json --data "$IRIS" --rounds 1 --quiet --freeze hiden -o x.json
err_has '"hiden" matches no array'
fails train start.json --data "$IRIS" --rounds 1 --quiet --learning-rate-multipliers 'hidden' -o x.json
err_has "--learning-rate-multipliers" '"hidden": expected PATTERN=NUMBER'
fails train start.json --data "$IRIS" --rounds 1 --quiet --learning-rate-multipliers 'hidden=-1' -o x.json
err_has '"hidden": expected a multiplier of at least 0'
echo "cli.finetune: ok"
