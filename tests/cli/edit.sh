# strata edit: drop and append a head, replace a layer (notes for arrays that
# no longer fit), take a range, replace an array; strata extract of a port's
# shape and of an array by position; named errors.
source "$(dirname "$0")/lib.sh"
NET=$DATA/cli/iris_net.json

ok init "$NET" --seed 3 -o start.json
ok edit start.json -o five.json --drop -2 --append 'LinearLayer Size=5 name=head' --append SoftmaxLayer
out_has "wrote five.json (4 layers, Output [5])" "Automatic (created by strata init or strata train): head/Weights head/Biases"
ok extract five.json head/Output
[[ $(cat out) == "[5]" ]] || fail "head/Output: $(cat out)"
ok extract five.json 1/Weights -o hidden_by_position.json
ok extract start.json hidden/Weights -o hidden.json
cmp -s hidden.json hidden_by_position.json || fail "1/Weights is not hidden/Weights, or the body changed"

ok edit start.json -o wide.json --replace 'hidden=LinearLayer Size=32'
out_has "note: scores/Weights: [3, 16] no longer fits" "made Automatic" "Automatic (created by strata init or strata train): hidden/Weights hidden/Biases scores/Weights"
ok edit start.json -o part.json --take 1:2
ok extract part.json Output
[[ $(cat out) == "[16]" ]] || fail "--take 1:2 gives Output $(cat out)"
ok extract start.json scores/Weights -o w.npy
ok edit start.json -o same.json --replace-array scores/Weights=w.npy
cmp -s start.json same.json || fail "replacing an array by itself changed the net"

fails edit start.json -o x.json --drop -9
err_has "--drop" "would leave none"
fails edit start.json -o x.json --replace 'hiden=LinearLayer Size=3'
err_has '--replace' 'no layer named "hiden"'
fails edit start.json -o x.json --append 'LinearLayer Sise=3'
err_has '--append' 'Sise'
fails edit start.json -o x.json --take 3
err_has '--take' 'START:END'
[[ ! -e x.json ]] || fail "a failed edit wrote its output"
echo "cli.edit: ok"
