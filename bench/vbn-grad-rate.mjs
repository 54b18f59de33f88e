// Time of the fused VBN backward kernel (vbnNormalizeGrad) of two builds of the addon, interleaved
// in one process (the machine is shared: compare the ratio):
//   node bench/vbn-grad-rate.mjs OLD.node NEW.node [rows=16] [spatial=62500] [channels=64]
// Small shapes time many calls per reading (the per-call cost of passing the arguments). A build
// that refuses the named-argument object (one from before it) is called with positional ones.
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
const args = (dx) => ({
  dy,
  x,
  out,
  rows: R,
  spatial: S,
  channels: C,
  meanHi: per(),
  meanLo: per(),
  gamma: per(),
  rowWeights: rw,
  rowStats,
  relu: true,
  dx,
  dMean: per(),
  dVarR: per(),
  dGamma: per(),
  dBeta: per(),
  statsRows: R >> 1,
  dMeanExt: null,
  dVarExt: null,
});
const positional = (o) => [
  ...[o.dy, o.x, o.out, o.rows, o.spatial, o.channels, o.meanHi, o.meanLo, o.gamma, o.rowWeights],
  ...[o.rowStats, o.relu, o.dx, o.dMean, o.dVarR, o.dGamma, o.dBeta, o.statsRows, null, null],
];
const call = {};
for (const [name, a] of Object.entries(addons)) {
  try {
    a.vbnNormalizeGrad(args(results[name]));
    call[name] = (o) => a.vbnNormalizeGrad(o);
  } catch {
    call[name] = (o) => a.vbnNormalizeGrad(...positional(o));
  }
}
const calls = Math.max(1, Math.ceil(2e6 / n));
const best = { old: Infinity, new: Infinity };
for (let r = 0; r < 4; r++) {
  for (const name of Object.keys(addons)) {
    const o = args(results[name]);
    const t = performance.now();
    for (let i = 0; i < calls; i++) call[name](o);
    if (r > 0) best[name] = Math.min(best[name], (performance.now() - t) / calls);
  }
}
const gb = (7 * n * 4) / 1e9; // two passes over dy, x and out, one write of dx
console.log(
  `[${R}, ${S}, ${C}] old ${best.old.toPrecision(3)} ms, new ${best.new.toPrecision(3)} ms per call (${calls} calls a reading): x${(best.old / best.new).toFixed(2)} (about ${gb.toFixed(1)} GB moved)`,
);
