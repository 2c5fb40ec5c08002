# strata info on the spec's example files.
source "$(dirname "$0")/lib.sh"

ok info "$DATA/nets/spec_chain.json"
out_has "NetChain: Input [1, 8, 8] -> Output [10]" \
  "conv1  ConvolutionLayer            [1, 8, 8]  [4, 8, 8]" \
  "Weights [4, 1, 3, 3] (Automatic), Biases [4] (Automatic)" \
  "norm1  InstanceNormalizationLayer" \
  "PoolingLayer                [4, 8, 8]  [4, 4, 4]" \
  "Weights [10, 64] (Automatic)" \
  "total parameters: 698 (trainable: 698)" \
  "6 arrays are Automatic"

ok info "$DATA/nets/single_layer.json"
out_has "InstanceNormalizationLayer: Input [2, 3] -> Output [2, 3]" "Gamma [2], Beta [2]" \
  "total parameters: 4 (trainable: 4)"
! grep -q Automatic out || fail "single_layer.json has its arrays set: $(cat out)"
