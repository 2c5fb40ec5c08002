# The fine-tuning example: a body trained on the digits 0-4, frozen, with a
# new head for 5-9 trained on 5 examples per class, beats the whole net
# trained from scratch on the same examples (the example itself checks that
# the frozen conv1 did not change).
#   bash finetune.sh FINETUNE SOURCE_DIR
set -euo pipefail
FINETUNE=$1 SRC=$2
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
out=$("$FINETUNE" "$SRC/examples/digits" 5) || fail "finetune failed"
echo "$out"
tuned=$(sed -n 's/.*fine-tuned.*: \([0-9.]*\)%.*/\1/p' <<<"$out")
scratch=$(sed -n 's/.*from scratch (whole net): *\([0-9.]*\)%.*/\1/p' <<<"$out")
[[ -n $tuned && -n $scratch ]] || fail "no accuracies in the output"
awk -v t="$tuned" -v s="$scratch" 'BEGIN { exit !(t > s) }' ||
  fail "fine-tuned $tuned% does not beat from scratch $scratch%"
grep -q "body frozen" <<<"$out" || fail "no step timing"
