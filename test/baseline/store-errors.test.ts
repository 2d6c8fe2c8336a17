// loadBaselineFile's two error paths that need a path stat() accepts and the next step refuses (issue 8: no test
// reached them). As root no permission bit refuses a read, so both use what the kernel refuses anyone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBaselineFile } from '../../src/baseline/store.ts';

test('loadBaselineFile: a regular file whose read fails gives a notice with the error code', async () => {
  // /proc/self/mem is a regular file (size 0) to stat(); reading it from offset 0, an unmapped address, fails (EIO).
  const path = '/proc/self/mem';
  assert.ok((await stat(path)).isFile());
  assert.deepEqual(await loadBaselineFile(path, 'default'), {
    runs: [],
    source: `file (${path})`,
    notice: `cannot read ${path} (EIO); comparing without a baseline`,
  });
});

test('loadBaselineFile: a directory whose listing fails gives a notice with the error code', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-store-errors-'));
  // The given directory's path is just below PATH_MAX (4096), a subdirectory's beyond it: the given directory is
  // stat()ed and listed, listing the subdirectory by its path fails (ENAMETOOLONG).
  let given = dir;
  while (given.length < 4000) given = join(given, 'd'.repeat(Math.min(200, 4000 - given.length)));
  const sub = 's'.repeat(200);
  const cwd = process.cwd();
  // The subdirectory can only be made (and removed) relative to its parent; rm() could not reach it by its path.
  const inGiven = async (fn: () => Promise<void>) => {
    process.chdir(given);
    try {
      await fn();
    } finally {
      process.chdir(cwd);
    }
  };
  t.after(async () => {
    await inGiven(() => rm(sub, { recursive: true, force: true })).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });
  await mkdir(given, { recursive: true });
  await inGiven(() => mkdir(sub));
  assert.ok(given.length < 4096 && join(given, sub).length > 4096, `${given.length}`);
  assert.deepEqual(await loadBaselineFile(given, 'default'), {
    runs: [],
    source: `file (${given})`,
    notice: `cannot list the baseline directory ${given} (ENAMETOOLONG); comparing without a baseline`,
  });
});
