"""Reference values for DropoutLayer, from torch.nn.functional.dropout where
its result does not depend on random numbers: the identity in inference
(training=False) for any probability, and in training with probability 0.
The random masks of training are tested statistically in dropout_test.cpp."""
import torch.nn.functional as F

from reference_util import case, grads, rand, write

cases = []
for name, shape, p, training in [("inference", (2, 3, 4), 0.5, False),
                                 ("inference_high_p", (3, 5), 0.9, False),
                                 ("training_p0", (2, 2, 3, 2), 0.0, True)]:
    x = rand(*shape)
    outs, gouts, gins, _ = grads(lambda x: [F.dropout(x, p=p, training=training)], [x], {})
    extra = {"mode": "Training"} if training else {}
    cases.append(case(name, [x], outs, options={"DropoutProbability": p}, output_grads=gouts,
                      input_grads=gins, **extra))
write("dropout.json", "DropoutLayer", cases)
