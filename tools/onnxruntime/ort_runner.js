#!/usr/bin/env node
// onnxruntime (CPU, npm onnxruntime-node) driven over stdin/stdout, one
// command per line and one answer line each, so that `maqd run --onnx` can
// compare its predictions and `maqd bench` can time it beside maqd-rt
// without counting start-up or pipes:
//   input FILE N C H W       uint8 images [N, C, H, W] (raw bytes) to use
//   load NAME MODEL THREADS  open an .onnx file (intra-op threads; all graph
//                            optimizations, so QDQ becomes int8 kernels)
//   predict NAME BATCH OUT   run every image in batches, write float32
//                            logits [N, classes] to OUT; answers "done"
//   time NAME BATCH SECONDS  run the first BATCH images repeatedly for at
//                            least SECONDS (after one warm-up run);
//                            answers the images per second
//   version                  answers onnxruntime's version
//   quit
// A failure answers "error: <message>" and the runner goes on.
// Installed by scripts/setup.sh (tools/onnxruntime/node_modules).
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));

const sessions = new Map();
let images = null;  // {data: Uint8Array, n, c, h, w}

function batchTensor(start, count) {
  const per = images.c * images.h * images.w;
  const data = images.data.subarray(start * per, (start + count) * per);
  return new ort.Tensor('uint8', data, [count, images.c, images.h, images.w]);
}

function session(name) {
  const s = sessions.get(name);
  if (!s) throw new Error(`no model loaded as '${name}'`);
  return s;
}

function needImages(count) {
  if (!images) throw new Error('no images: send "input FILE N C H W" first');
  if (count < 1 || count > images.n) throw new Error(`batch ${count}: expected 1..${images.n}`);
}

async function handle(words) {
  switch (words[0]) {
    case 'version':
      return ort.env.versions.common;
    case 'input': {
      const [file, n, c, h, w] = [words[1], ...words.slice(2, 6).map(Number)];
      const data = new Uint8Array(fs.readFileSync(file));
      if (data.length !== n * c * h * w)
        throw new Error(`${file}: ${data.length} bytes; expected ${n}×${c}×${h}×${w}`);
      images = {data, n, c, h, w};
      return 'ready';
    }
    case 'load': {
      const [name, file, threads] = [words[1], words[2], Number(words[3])];
      sessions.set(name, await ort.InferenceSession.create(file, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      }));
      return 'ready';
    }
    case 'predict': {
      const [s, batch, out] = [session(words[1]), Number(words[2]), words[3]];
      needImages(1);
      const chunks = [];
      for (let start = 0; start < images.n; start += batch) {
        const count = Math.min(batch, images.n - start);
        const result = await s.run({image: batchTensor(start, count)});
        chunks.push(Buffer.from(result.logits.data.buffer, result.logits.data.byteOffset,
                                result.logits.data.byteLength));
      }
      fs.writeFileSync(out, Buffer.concat(chunks));
      return 'done';
    }
    case 'time': {
      const [s, batch, seconds] = [session(words[1]), Number(words[2]), Number(words[3])];
      needImages(batch);
      const feeds = {image: batchTensor(0, batch)};
      await s.run(feeds);  // warm-up
      let runs = 0;
      const start = process.hrtime.bigint();
      let elapsed = 0;
      while (elapsed < seconds || runs < 3) {
        await s.run(feeds);
        ++runs;
        elapsed = Number(process.hrtime.bigint() - start) / 1e9;
      }
      return String(runs * batch / elapsed);
    }
    default:
      throw new Error(`unknown command '${words[0]}'`);
  }
}

async function main() {
  const lines = readline.createInterface({input: process.stdin, terminal: false});
  for await (const line of lines) {
    const words = line.trim().split(/\s+/);
    if (words[0] === 'quit') break;
    if (words[0] === '') continue;
    let answer;
    try {
      answer = await handle(words);
    } catch (e) {
      answer = `error: ${String(e.message || e).replace(/\n/g, ' ')}`;
    }
    process.stdout.write(answer + '\n');
  }
  process.exit(0);
}

main();
