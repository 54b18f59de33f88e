// Time of the fused VBN backward kernel (vbnNormalizeGrad) of two builds of the addon, interleaved
// in one process (the machine is shared: compare the ratio):
//   node bench/vbn-grad-rate.mjs OLD.node NEW.node [rows=16] [spatial=62500] [channels=64]
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [oldPath, newPath, rowsArg = '16', spatialArg = '62500', channelsArg = '64'] =
  process.argv.slice(2);
const addons = { old: require(oldPath), new: require(newPath) };
const [R, S, C] = [rowsArg, spatialArg, channelsArg].map(Number);
const n = R * S * C;
const random = (k) => Float32Array.from({ length: k }, () => Math.random() * 2 - 1);
const dy = random(n);
const x = random(n);
const out = random(n);
const per = () => random(C);
const rowStats = Float32Array.from({ length: R * 2 * C }, (_, i) => (i % (2 * C) < C ? 0.01 : 1));
const rw = new Float32Array(R).fill(1 / (R + 1));
const results = {};
for (const name of Object.keys(addons)) results[name] = new Float32Array(n);
const best = { old: Infinity, new: Infinity };
for (let r = 0; r < 4; r++) {
  for (const [name, a] of Object.entries(addons)) {
    const t = performance.now();
    a.vbnNormalizeGrad(
      dy,
      x,
      out,
      R,
      S,
      C,
      per(),
      per(),
      per(),
      rw,
      rowStats,
      true,
      results[name],
      per(),
      per(),
      per(),
      per(),
      R >> 1,
      null,
      null,
    );
    if (r > 0) best[name] = Math.min(best[name], performance.now() - t);
  }
}
const gb = (7 * n * 4) / 1e9; // two passes over dy, x and out, one write of dx
console.log(
  `[${R}, ${S}, ${C}] old ${best.old.toFixed(0)} ms, new ${best.new.toFixed(0)} ms: x${(best.old / best.new).toFixed(2)} (about ${gb.toFixed(1)} GB moved)`,
);
