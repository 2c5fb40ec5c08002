# --loss-plot: a standalone SVG with one point per round in each series.
source "$(dirname "$0")/lib.sh"

# points ID: the number of points of the polyline with that id in plot.svg.
points() {
  grep -o "<polyline id=\"$1\"[^>]*>" plot.svg | sed 's/.* points="\([^"]*\)".*/\1/' | wc -w
}

# well_formed FILE: an XML document with the svg root (xmllint when present).
well_formed() {
  head -1 "$1" | grep -q '^<?xml version="1.0"' || fail "$1: no XML declaration"
  grep -q '<svg xmlns="http://www.w3.org/2000/svg"' "$1" || fail "$1: no svg root"
  [[ $(tail -1 "$1") == "</svg>" ]] || fail "$1: does not end with </svg>"
  [[ $(grep -o '<g[ >]' "$1" | wc -l) -eq $(grep -o '</g>' "$1" | wc -l) ]] ||
    fail "$1: unbalanced <g>"
  if [[ -n ${XMLLINT:-} && -x ${XMLLINT:-} ]]; then
    "$XMLLINT" --noout "$1" || fail "$1: xmllint finds it malformed"
  fi
}

ok train "$DATA/cli/iris_net.json" --data "$DATA/iris.csv" --validation-split 0.2 --rounds 25 \
  --learning-rate 0.02 --batch-size 16 --quiet -o net.json --loss-plot plot.svg
out_has "wrote net.json and plot.svg"
well_formed plot.svg
[[ $(points training-loss) -eq 25 ]] || fail "training-loss has $(points training-loss) points"
[[ $(points validation-loss) -eq 25 ]] || fail "validation-loss has $(points validation-loss) points"
grep -q ">training</text>" plot.svg || fail "no legend entry for training"
grep -q ">validation</text>" plot.svg || fail "no legend entry for validation"
grep -q "CrossEntropy loss per round" plot.svg || fail "no title"

# Without validation: one series.
ok train "$DATA/cli/iris_net.json" --data "$DATA/iris.csv" --rounds 7 --quiet -o net2.json \
  --loss-plot plot.svg
well_formed plot.svg
[[ $(points training-loss) -eq 7 ]] || fail "training-loss has $(points training-loss) points"
! grep -q 'validation' plot.svg || fail "a validation series without validation data"

# A loss that falls by many decades gets a log axis.
ok train "$DATA/cli/linear_model.json" --data "$DATA/cli/regression_inputs.npy" \
  --targets "$DATA/cli/regression_targets.npy" --method SGD --learning-rate 0.1 --rounds 40 \
  --batch-size 16 --quiet -o reg.json --loss-plot plot.svg
well_formed plot.svg
grep -q "loss (log scale)" plot.svg || fail "no log axis for a loss spanning decades"
[[ $(points training-loss) -eq 40 ]] || fail "training-loss has $(points training-loss) points"
