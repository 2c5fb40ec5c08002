#!/usr/bin/env node
// Runs strata's exported ONNX models in ONNX Runtime and compares the outputs
// with strata's: node ort_check.js DIR, where DIR holds CASE.onnx and
// CASE.json ({"inputs": {NAME: {"shape": [...], "data": [...]}}, "outputs":
// {...}}, written by tests/onnx/export_test.cpp: strata's outputs, or for
// pytorch_* the outputs PyTorch computed for the model strata imported and
// exported again). Every output element must satisfy
// |ort - expected| <= 1e-4 + 1e-3 |expected|. One line per case.
//
// ONNX Runtime is the npm package onnxruntime-node, looked up in
// $STRATA_ORT_DIR (default ~/.cache/strata-ort; make ort installs it there).
// Without it: exit 77 (ctest: skipped, not passed), or 1 when CI=true.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const ortDir = process.env.STRATA_ORT_DIR || path.join(os.homedir(), '.cache', 'strata-ort');
let ort;
try {
  ort = require(path.join(ortDir, 'node_modules', 'onnxruntime-node'));
} catch (e) {
  const ci = process.env.CI === 'true';
  console.error(`ONNX Runtime not found in ${ortDir} (${e.message.split('\n')[0]}); ` +
                `install it with make ort. ${ci ? 'CI=true: failing' : 'skipped, not passed'}`);
  process.exit(ci ? 1 : 77);
}

async function runCase(dir, name) {
  const spec = JSON.parse(fs.readFileSync(path.join(dir, name + '.json'), 'utf8'));
  const session = await ort.InferenceSession.create(path.join(dir, name + '.onnx'));
  const feeds = {};
  for (const [k, v] of Object.entries(spec.inputs))
    feeds[k] = new ort.Tensor('float32', Float32Array.from(v.data), v.shape);
  const results = await session.run(feeds);
  let worst = 0;
  for (const [k, want] of Object.entries(spec.outputs)) {
    const got = results[k];
    if (!got) throw new Error(`no output ${k} (outputs: ${Object.keys(results).join(', ')})`);
    if (JSON.stringify(Array.from(got.dims)) !== JSON.stringify(want.shape))
      throw new Error(`output ${k}: shape [${got.dims}], expected [${want.shape}]`);
    for (let i = 0; i < want.data.length; ++i) {
      const w = want.data[i], g = got.data[i];
      const err = Math.abs(g - w);
      if (!(err <= 1e-4 + 1e-3 * Math.abs(w)))
        throw new Error(`output ${k}[${i}]: ONNX Runtime ${g}, expected ${w}`);
      worst = Math.max(worst, err);
    }
  }
  return worst;
}

(async () => {
  const dir = process.argv[2];
  const names = fs.readdirSync(dir).filter(f => f.endsWith('.onnx')).map(f => f.slice(0, -5)).sort();
  if (names.length === 0) {
    console.error(`no models in ${dir}`);
    process.exit(1);
  }
  let failed = 0;
  for (const name of names) {
    try {
      const worst = await runCase(dir, name);
      console.log(`ok   ${name} (largest difference ${worst.toExponential(2)})`);
    } catch (e) {
      ++failed;
      console.log(`FAIL ${name}: ${e.message.split('\n')[0]}`);
    }
  }
  console.log(`${names.length - failed} of ${names.length} models give the expected outputs in ONNX Runtime`);
  process.exit(failed ? 1 : 0);
})();
