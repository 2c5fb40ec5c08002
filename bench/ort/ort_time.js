#!/usr/bin/env node
// Times ONNX Runtime's session.run on one model, for bench/ort/compare.cpp:
//   node ort_time.js MODEL.onnx INPUT.npy THREADS WARMUP RUNS OUTPUT.bin
// The session has intraOpNumThreads THREADS, one inter-op thread and ONNX
// Runtime's default graph optimizations. The input is a float32 .npy file
// (C order); OUTPUT.bin receives the first output as raw float32, for the
// comparison with strata's. Prints one JSON line: every run's seconds, the CPU
// time per run (user + system, all threads, over the timed runs), the
// resident memory before the session was made and the peak (maxRSS), bytes.
//
// ONNX Runtime is the npm package onnxruntime-node in $STRATA_ORT_DIR
// (default ~/.cache/strata-ort; make ort installs it there).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const ortDir = process.env.STRATA_ORT_DIR || path.join(os.homedir(), '.cache', 'strata-ort');
const ort = require(path.join(ortDir, 'node_modules', 'onnxruntime-node'));

function readNpy(file) {
  const b = fs.readFileSync(file);
  if (b.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = b[6];
  const headerLen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = b.toString('latin1', start, start + headerLen);
  if (!header.includes("'<f4'") || header.includes("'fortran_order': True"))
    throw new Error(`${file}: expected C-order float32, header ${header}`);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').map(s => s.trim())
                    .filter(s => s.length).map(Number);
  const offset = start + headerLen;
  const data = new Float32Array(b.buffer.slice(b.byteOffset + offset, b.byteOffset + b.length));
  return {shape, data};
}

(async () => {
  const [model, inputFile, threadsArg, warmupArg, runsArg, outFile] = process.argv.slice(2);
  const threads = Number(threadsArg), warmup = Number(warmupArg), runs = Number(runsArg);
  const rssBefore = process.memoryUsage().rss;
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const x = readNpy(inputFile);
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape)};
  let result;
  for (let i = 0; i < warmup; ++i) result = await session.run(feeds);
  const seconds = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < runs; ++i) {
    const t0 = process.hrtime.bigint();
    result = await session.run(feeds);
    seconds.push(Number(process.hrtime.bigint() - t0) * 1e-9);
  }
  const cpu = process.cpuUsage(cpu0);
  const y = result[session.outputNames[0]];
  fs.writeFileSync(outFile, Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
  console.log(JSON.stringify({
    seconds,
    cpu_per_run: (cpu.user + cpu.system) * 1e-6 / runs,
    shape: Array.from(y.dims),
    rss_before: rssBefore,
    peak_rss: process.resourceUsage().maxRSS * 1024,
    version: require(path.join(ortDir, 'node_modules', 'onnxruntime-node', 'package.json')).version,
  }));
})().catch(e => {
  console.error(e.message);
  process.exit(1);
});
