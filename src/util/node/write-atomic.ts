import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { VbnError } from '../../errors.js';

/**
 * Refuses an output path before any work is done: a missing folder, a folder in the file's place,
 * or an existing file without `force`. Each as one VbnError naming the flag.
 */
export function checkOutPath(out: string, force: boolean, flag = '--out'): void {
  const dir = dirname(out);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new VbnError(`${flag} ${out}: the folder ${dir} does not exist`);
  }
  if (!existsSync(out)) return;
  if (statSync(out).isDirectory()) throw new VbnError(`${flag} ${out}: is a folder`);
  if (!force) throw new VbnError(`${flag} ${out}: the file exists (--force replaces it)`);
}

/**
 * Writes `bytes` to `out` whole or not at all: a temporary file in the same folder, fsynced, then
 * renamed over `out` (`force`) or hard-linked to it, which fails if `out` appeared meanwhile.
 * On any failure the temporary file is removed and `out` is as it was.
 */
export function writeFileAtomic(
  out: string,
  bytes: Uint8Array,
  force: boolean,
  flag = '--out',
): void {
  checkOutPath(out, force, flag);
  const tmp = join(dirname(out), `.${basename(out)}.tmp-${process.pid}`);
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (force) renameSync(tmp, out);
    else linkSync(tmp, out);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST')
      throw new VbnError(`${flag} ${out}: the file exists (--force replaces it)`);
    throw new VbnError(`${flag} ${out}: cannot write (${code ?? (e as Error).message})`);
  } finally {
    if (existsSync(tmp)) unlinkSync(tmp);
  }
}
