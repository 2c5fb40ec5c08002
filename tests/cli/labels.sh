# Class labels (ClassLabels) from the command line: set by edit, kept by
# init and train, targets given as labels in CSV for train and evaluate,
# apply --decode and --top, and apply on one example without the batch.
source "$(dirname "$0")/lib.sh"
IRIS=$DATA/iris.csv
NET=$DATA/cli/iris_net.json
LABELS=setosa,versicolor,virginica

# The same data with the targets as labels, and a header.
awk -F, 'NR == 1 { print "sl,sw,pl,pw,species"; next }
  { split("setosa versicolor virginica", n, " "); print $1 "," $2 "," $3 "," $4 "," n[$5 + 1] }' \
  "$IRIS" >iris_labels.csv
grep -q '^5.1,3.5,1.4,0.2,setosa$' iris_labels.csv || fail "bad label CSV: $(head -3 iris_labels.csv)"

ok edit "$NET" -o labelled.json --class-labels "$LABELS"
grep -q '"ClassLabels"' labelled.json || fail "edit did not write ClassLabels: $(cat labelled.json)"
ok info labelled.json
out_has "class labels: setosa versicolor virginica"
ok init labelled.json -o initialized.json --seed 1
grep -q '"virginica"' initialized.json || fail "init dropped the labels"

# Labels as targets train the same net, byte for byte, as their indices.
TRAIN=(--rounds 40 --learning-rate 0.02 --batch-size 16 --seed 1 --quiet)
ok train labelled.json --data iris_labels.csv "${TRAIN[@]}" -o by_label.json
ok train labelled.json --data "$IRIS" "${TRAIN[@]}" -o by_index.json
cmp -s by_label.json by_index.json || fail "labels and indices trained different nets"
grep -q '"versicolor"' by_label.json || fail "train dropped the labels"
ok train labelled.json --data iris_labels.csv --rounds 1 --quiet --checkpoint ck.json -o ck_net.json
grep -q '"ClassLabels"' ck.json || fail "the checkpoint lacks the labels"

# evaluate: the same accuracy from labels as from indices; a labelled matrix.
ok evaluate by_label.json --data iris_labels.csv
out_has "examples  150"
sed -n '/^confusion matrix/,$p' out | awk 'NR == 2 { if ($1 != "setosa" || $2 != "versicolor" || $3 != "virginica") exit 1 }
  NR > 2 { if ($1 != (NR == 3 ? "setosa" : NR == 4 ? "versicolor" : "virginica")) exit 1 }' ||
  fail "the matrix is not labelled: $(cat out)"
acc_label=$(grep '^accuracy' out)
ok evaluate by_label.json --data "$IRIS"
[[ $(grep '^accuracy' out) == "$acc_label" ]] || fail "accuracy differs: $acc_label vs $(grep '^accuracy' out)"
acc=$(echo "$acc_label" | sed -n 's/^accuracy *\([0-9.]*\)%.*/\1/p')
at_least "$acc" 90

# An unknown label names its line and the label, in train and evaluate.
sed '4s/,setosa$/,ferret/' iris_labels.csv >ferret.csv
fails train by_label.json --data ferret.csv --rounds 1 -o never.json
err_has "ferret.csv: line 4, column 5 (species): unknown class label \"ferret\"" \
  "(ClassLabels: setosa, versicolor, virginica)"
[[ ! -e never.json ]] || fail "train wrote a net despite the error"
fails evaluate by_label.json --data ferret.csv
err_has "line 4" "\"ferret\""
# Labels as targets need a labelled net.
ok edit by_label.json -o trained_unlabelled.json --class-labels ''
fails evaluate trained_unlabelled.json --data iris_labels.csv
err_has "line 2, column 5 (species): \"setosa\" is not a number" "need a net with ClassLabels"

# apply --decode and --top on three flowers, one of each class (rows 1, 51, 101).
awk -F, 'NR == 2 || NR == 52 || NR == 102 { printf "%s%s,%s,%s,%s", (n++ ? "," : ""), $1, $2, $3, $4 }
  END { print "" }' "$IRIS" >rows.txt
echo "{\"shape\": [3, 4], \"data\": [$(cat rows.txt)]}" >flowers.json
ok apply by_label.json flowers.json --decode
[[ $(cat out) == $'setosa\nversicolor\nvirginica' ]] || fail "--decode gave: $(cat out)"
ok apply by_label.json flowers.json --decode -o decisions.txt
out_has "wrote decisions.txt (the decision for 3 examples)"
[[ $(cat decisions.txt) == $'setosa\nversicolor\nvirginica' ]] || fail "decisions.txt: $(cat decisions.txt)"
ok apply by_label.json flowers.json --top 2
[[ $(wc -l <out) -eq 3 ]] || fail "--top 2: expected 3 lines: $(cat out)"
head -1 out | grep -q '^{"setosa": 0\.[0-9]*, "[a-z]*": [0-9.e-]*}$' || fail "--top 2: $(cat out)"
# The top probabilities of each line are in decreasing order, as the
# probabilities tensor has them.
ok apply by_label.json flowers.json --top 5
awk -F'[:,}]' '{ if (NF != 7) exit 1; if ($2 + 0 < $4 + 0 || $4 + 0 < $6 + 0) exit 1 }' out ||
  fail "--top 5 (3 classes): $(cat out)"
ok apply by_label.json flowers.json -o p.json
first=$(json_data p.json | cut -d' ' -f1)
ok apply by_label.json flowers.json --top 1
close_lists "$(sed -n '1s/.*: \([0-9.e-]*\)}$/\1/p' out)" "$first" 1e-5
# A net without labels decodes to class indices.
ok apply "$DATA/cli/linear_ramp.json" "$DATA/cli/x_2x3.json" --decode
[[ $(cat out) == $'1\n0' ]] || fail "--decode without labels: $(cat out)"

fails apply by_label.json flowers.json --decode --top 2
err_has "--decode and --top: give one of them"
fails apply by_label.json flowers.json --decode -o decisions.npy
err_has "decisions.npy: the labels of --decode and --top are text"
fails apply by_label.json flowers.json --top 0
err_has "--top"

# One example without the batch dimension: the output has none either.
echo '{"shape": [4], "data": [5.1, 3.5, 1.4, 0.2]}' >flower.json
ok apply by_label.json flower.json
grep -qxF "one example of shape [4]: output [3] (no batch dimension)" err ||
  fail "stderr for one example: $(cat err)"
[[ $(json_shape out) == "3" ]] || fail "one example: output shape $(json_shape out)"
close_lists "$(json_data out)" "$(json_data p.json | cut -d' ' -f1-3)" 1e-6
ok apply by_label.json flower.json -o one.npy
[[ $(npy_shape one.npy) == "(3,)" ]] || fail "one.npy shape $(npy_shape one.npy)"
ok apply by_label.json flower.json --decode
[[ $(cat out) == setosa ]] || fail "one example --decode: $(cat out)"
# A batch of one keeps its batch dimension, and nothing is said.
echo '{"shape": [1, 4], "data": [5.1, 3.5, 1.4, 0.2]}' >batch1.json
ok apply by_label.json batch1.json
[[ $(json_shape out) == "1 3" ]] || fail "batch of one: output shape $(json_shape out)"
[[ ! -s err ]] || fail "a batch of one printed: $(cat err)"
echo '{"shape": [5], "data": [1, 2, 3, 4, 5]}' >five.json
fails apply by_label.json five.json
err_has "five.json: an example of shape [5] does not fit the net's input port \"Input\" [4]"

# Labels that do not fit: edit and load name the key.
fails edit "$NET" -o never.json --class-labels a,b
err_has "ClassLabels: 2 labels, but the net's Output [3] has 3 classes"
sed '/"versicolor",/d' by_label.json >two.json
fails info two.json
err_has "two.json: ClassLabels: 2 labels"
# Surgery that changes the Output drops them, with a note; @FILE sets new ones.
ok edit by_label.json -o five_out.json --drop -2 --append 'LinearLayer Size=5' --append SoftmaxLayer
out_has "note: ClassLabels: 3 labels, but the net's Output [5] has 5 classes" "dropped the labels"
! grep -q ClassLabels five_out.json || fail "labels kept on a 5-class net"
# A new head of the same size keeps them, although the net between differs.
ok edit by_label.json -o new_head.json --drop -2 --append 'LinearLayer Size=3' --append SoftmaxLayer
! grep -q "note: ClassLabels" out || fail "labels noted as dropped: $(cat out)"
grep -q '"virginica"' new_head.json || fail "a head of the same size lost the labels"
printf 'a\nb\nc\nd\ne\n' >five.txt
ok edit five_out.json -o five_labelled.json --class-labels @five.txt
grep -q '"e"' five_labelled.json || fail "@FILE labels not set"
ok edit five_labelled.json -o unlabelled.json --class-labels ''
! grep -q ClassLabels unlabelled.json || fail "--class-labels '' kept them"
echo "labels: ok"
