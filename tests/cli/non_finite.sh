# NaN and infinity are never silent (issue 18): apply writes them to .npy
# with a warning naming the input file and the first example, and refuses
# JSON (which cannot hold them) with the same words; evaluate refuses NaN
# data and warns when the net's outputs are not finite. Examples count from
# 1, as in the other messages.
source "$(dirname "$0")/lib.sh"
CLI=$DATA/cli
mkdir o
ok init "$CLI/iris_net.json" -o iris.json
# batch_3x4.npy (3 examples of 4, a 128-byte header) with a NaN in example 2.
{ head -c 144 "$CLI/batch_3x4.npy"; printf '\x00\x00\xc0\x7f'; tail -c +149 "$CLI/batch_3x4.npy"; } >nan.npy
[[ $(wc -c <nan.npy) -eq 176 ]] || fail "nan.npy has $(wc -c <nan.npy) bytes"

ok apply iris.json nan.npy -o o/y.npy
err_has 'warning: nan.npy: example 2 of 3 gives NaN or infinity in the output "Output"; written to o/y.npy as they are'
[[ $(wc -l <err) -eq 1 ]] || fail "expected one warning: $(cat err)"
out_has "wrote o/y.npy (Output, shape [3, 3])"
rm o/y.npy
# Batches do not change what is said.
ok apply iris.json nan.npy -o o/y.npy --batch-size 1
err_has 'warning: nan.npy: example 2 of 3 gives NaN'
rm o/y.npy
fails apply iris.json nan.npy
err_has 'strata: nan.npy: example 2 of 3 gives NaN or infinity in the output "Output", which JSON cannot hold (write a .npy file to keep them)'
fails apply iris.json nan.npy -o o/y.json
err_has 'strata: nan.npy: example 2 of 3 gives NaN'
empty_dir o
ok apply iris.json nan.npy --decode
err_has 'warning: nan.npy: example 2 of 3 gives NaN or infinity in the output "Output"; its classes are meaningless'

# Weights that overflow: every example's output is infinite.
cat >overflow.json <<'JSON'
{"format": "strata-net", "version": 1, "type": "LinearLayer", "Size": 1, "Input": [3],
 "Weights": {"shape": [1, 3], "data": [3e38, 3e38, 3e38]}, "Biases": {"shape": [1], "data": [0]}}
JSON
fails apply overflow.json "$CLI/x_2x3.json"
err_has "strata: $CLI/x_2x3.json: example 1 of 2 gives NaN or infinity in the output \"Output\" (2 examples in all), which JSON cannot hold"

# evaluate: NaN in the data is refused at load (naming the element), as is
# an --input-scale that makes inputs infinite; a net whose output overflows
# gives an infinite loss, and a warning says why.
printf '{"shape": [3], "data": [0, 1, 2]}' >targets.json
fails evaluate iris.json --data nan.npy --targets targets.json
err_has "strata: nan.npy: inputs[1, 0] (example 2) is nan; the data must be finite"
fails evaluate iris.json --data "$DATA/iris.csv" --input-scale 1e38
err_has "strata: --input-scale 1e+38: $DATA/iris.csv: example 1, column 1 is 5.1, which this scale makes inf"
printf '{"shape": [2, 1], "data": [0, 1]}' >targets_2x1.json
ok evaluate overflow.json --data "$CLI/x_2x3.json" --targets targets_2x1.json
err_has "warning: $CLI/x_2x3.json: example 1 of 2 gives NaN or infinity in the net's output (2 examples in all); the loss and accuracy count them"
out_has "loss      inf"
