# strata info --dot and --svg: the net as a Graphviz graph.
source "$(dirname "$0")/lib.sh"

ok info "$DATA/nets/spec_graph.json" --dot
out_has "digraph net {" "class=layer" " -> "
layers=$(grep -c "class=layer" out)
[[ $layers -eq 3 ]] || fail "expected 3 layer boxes in the DOT, got $layers: $(cat out)"
edges=$(grep -c -- " -> " out)
[[ $edges -eq 5 ]] || fail "expected 5 edges (one per connection), got $edges"

# Without Graphviz: one clear line, nothing written.
fails_env() {
  local code=0
  env PATH=/nonexistent "$STRATA" "$@" >out 2>err || code=$?
  ((code == 1)) || fail "strata $*: exit code $code, expected 1: $(cat err)"
  [[ $(wc -l <err) -eq 1 ]] || fail "expected one line on stderr, got: $(cat err)"
}
fails_env info "$DATA/nets/spec_graph.json" --svg net.svg
err_has "--svg: Graphviz's dot was not found"
[[ ! -e net.svg ]] || fail "net.svg written although dot is missing"

# With Graphviz (always under CI, which installs it): a real SVG.
if command -v dot >/dev/null; then
  ok info "$DATA/nets/spec_graph.json" --svg net.svg
  grep -q "<svg" net.svg || fail "net.svg is not SVG: $(head -c 200 net.svg)"
  [[ $(grep -c 'class="node layer"' net.svg) -eq 3 ]] || fail "net.svg lacks the layer nodes"
  [[ $(grep -c 'class="edge"' net.svg) -eq 5 ]] || fail "net.svg lacks the edges"
elif [[ "${CI:-}" == true ]]; then
  fail "Graphviz's dot is not installed (make deps installs graphviz)"
fi
