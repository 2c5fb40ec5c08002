# Nothing lost (issue 18): an output that is an input, or another output, of
# the same command is refused before any work, comparing files (the same
# inode, through symbolic and hard links, ./a and a), not strings.
source "$(dirname "$0")/lib.sh"
CLI=$DATA/cli
cp "$CLI/iris_net.json" net.json
ok init net.json -o init.json
cp init.json kept.json
ln -s init.json link.json
ln init.json hard.json
cp "$CLI/x_2x3.json" x.json

same_as() {  # same_as OUTPUT_OPTION INPUT_ROLE: the message of a refusal
  err_has "$1 names the same file as the input $2" "give the output a file of its own"
}
unchanged() {
  cmp -s init.json kept.json || fail "init.json was changed"
  cmp -s x.json "$CLI/x_2x3.json" || fail "x.json was changed"
  [[ $(ls -A | grep -c '^\.') -eq 0 ]] || fail "a temporary was left: $(ls -A)"
}

fails init init.json -o ./init.json
err_has "strata: ./init.json: -o names the same file as the input NET (init.json)"
fails init link.json -o init.json
same_as -o "NET (link.json)"
fails apply init.json "$CLI/batch_3x4.npy" -o link.json
same_as -o "NET (init.json)"
fails apply "$CLI/linear_ramp.json" x.json -o ./x.json
same_as -o "INPUT (x.json)"
fails apply "$CLI/two_ports.json" --input "A=$CLI/a_2x2.json" --input B=x.json --output Positive=o.json \
  --output Leaky=./o.json
err_has "strata: ./o.json: --output Leaky and --output Positive name the same file (o.json); give each output a file of its own"
fails train init.json --data "$DATA/iris.csv" -o out.json --loss-plot ./out.json
err_has "strata: ./out.json: --loss-plot and -o name the same file (out.json); give each output a file of its own"
fails train init.json --data "$DATA/iris.csv" -o out.json --checkpoint out.json
err_has "--checkpoint and -o name the same file"
fails train init.json --data "$DATA/iris.csv" -o hard.json
same_as -o "NET (init.json)"
fails train init.json --data "$DATA/iris.csv" -o out.json --loss-plot "$DATA/iris.csv"
same_as --loss-plot "--data"
fails extract init.json hidden -o hard.json
same_as -o "NET (init.json)"
fails edit init.json -o x.json --replace-array hidden/Biases=x.json
same_as -o "--replace-array"
fails info init.json --svg link.json
same_as --svg "NET (init.json)"
if "$STRATA" export init.json -o e.onnx >/dev/null 2>&1; then  # built with ONNX
  rm e.onnx
  fails export init.json -o ../"$(basename "$PWD")"/init.json
  same_as -o "NET (init.json)"
fi
unchanged
[[ ! -e out.json && ! -e o.json ]] || fail "an output was written"

# --resume and --checkpoint may be one file: the training goes on saving there.
ok train init.json --data "$DATA/iris.csv" --rounds 1 --checkpoint ck.json -o out.json --quiet
ok train --resume ck.json --checkpoint ./ck.json --rounds 2 --data "$DATA/iris.csv" -o out2.json --quiet
fails train --resume ck.json --data "$DATA/iris.csv" --rounds 3 -o ck.json
same_as -o "--resume"
