# --help on every command, with examples; --version.
source "$(dirname "$0")/lib.sh"

ok --version
[[ $(cat out) == "strata $STRATA_VERSION" ]] || fail "--version printed: $(cat out)"

ok --help
out_has "Usage: strata" "Examples:" "Exit codes"
for command in info init apply extract train evaluate; do
  out_has "  $command "
done

for command in info init apply extract train evaluate; do
  ok "$command" --help
  out_has "Usage: strata $command" "Example" "  strata $command "
done

# Every option of train is documented.
ok train --help
for option in --data --targets --output --rounds --batch-size --method --learning-rate \
  --momentum --l2 --gradient-clipping --schedule --step-size --gamma --loss --seed \
  --no-shuffle --validation --validation-targets --validation-split --input-scale --quiet \
  --loss-plot; do
  out_has "$option"
done
ok evaluate --help
for option in --data --targets --loss --input-scale --batch-size; do
  out_has "$option"
done
ok apply --help
out_has "--input NAME=FILE" "--output NAME=FILE" "-o FILE"
ok init --help
out_has --seed --method --scale --reinitialize Kaiming Xavier Random
