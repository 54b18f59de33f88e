// Writes native/src/addon-spec.h from src/backend/node/addon-spec.ts (run `npm run build` first):
// the C++ side of the addon's argument table. test/backend/addon-spec.test.ts checks it is current.
import { writeFileSync } from 'node:fs';
import { addonHeader } from '../dist/backend/node/addon-header.js';

const target = new URL('../native/src/addon-spec.h', import.meta.url);
writeFileSync(target, addonHeader());
console.log(`wrote ${target.pathname}`);
