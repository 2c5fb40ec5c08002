# The main job end to end: the digits net trained with the C++ API reaches at
# least 97% test accuracy and writes its net and loss plot; the same job from
# the command line on examples/digits/net.json gives the same net, byte for
# byte.
#   bash digits.sh TRAIN_DIGITS STRATA SOURCE_DIR WORK_DIR
set -euo pipefail
TRAIN_DIGITS=$1 STRATA=$2 SRC=$3 WORK=$4
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"
DIGITS=$SRC/examples/digits

"$TRAIN_DIGITS" "$DIGITS" cpp >out 2>err || fail "train_digits failed: $(tail -3 err)"
accuracy=$(sed -n 's/^test accuracy: \([0-9.]*\)%.*/\1/p' out)
[[ -n $accuracy ]] || fail "no test accuracy in: $(cat out)"
awk -v a="$accuracy" 'BEGIN { exit !(a >= 97) }' || fail "test accuracy $accuracy% < 97%"
[[ -s cpp/digits-net.json && -s cpp/digits-loss.svg ]] || fail "the net or the loss plot is missing"
[[ $(grep -c '^round ' err) -eq 20 ]] || fail "expected 20 rounds: $(grep -c '^round ' err)"

"$STRATA" train "$DIGITS/net.json" --data "$DIGITS/digits_train.csv" \
  --validation "$DIGITS/digits_test.csv" --input-scale 0.0625 --method SGD --learning-rate 0.05 \
  --momentum 0.9 --l2 0.003 --schedule Cosine --batch-size 16 --rounds 20 --seed 1 --quiet \
  -o cli-net.json --loss-plot cli-loss.svg >out 2>err || fail "strata train failed: $(cat err)"
cmp -s cli-net.json cpp/digits-net.json || fail "the CLI and the C++ program trained different nets"
"$STRATA" evaluate cli-net.json --data "$DIGITS/digits_test.csv" --input-scale 0.0625 >out 2>err ||
  fail "strata evaluate failed: $(cat err)"
grep -Eq "^accuracy +$accuracy%" out || fail "evaluate disagrees with $accuracy%: $(cat out)"
echo "digits: test accuracy $accuracy%"
