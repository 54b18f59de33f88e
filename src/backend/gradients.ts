// The Node bundle of @tensorflow/tfjs-core registers no gradients; tfjs-layers' bundle does.
// Every entry point that differentiates (the library index, the CLI) loads this module through
// backend/select.ts.
import '@tensorflow/tfjs-layers';
