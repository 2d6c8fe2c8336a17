// dist/ must be exactly what scripts/build.ts makes from src/ today.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { bundle, ENTRIES, ROOT } from '../scripts/build.ts';

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(relative(dir, join(e.parentPath, e.name)));
  }
  return out.sort();
}

test('dist/ is in sync with src/ (run `node scripts/build.ts` and commit dist/ when this fails)', async (t) => {
  const fresh = await mkdtemp(join(tmpdir(), 'pvbench-dist-'));
  t.after(() => rm(fresh, { recursive: true, force: true }));
  await bundle(fresh);
  const committed = join(ROOT, 'dist');
  const want = await files(fresh);
  assert.deepEqual(want, Object.keys(ENTRIES).map((e) => `${e}.js`).sort(), 'the build makes one file per entry');
  assert.deepEqual(await files(committed).catch(() => []), want, 'dist/ holds exactly the built entries');
  const stale: string[] = [];
  for (const f of want) {
    const [a, b] = await Promise.all([readFile(join(fresh, f)), readFile(join(committed, f))]);
    if (!a.equals(b)) stale.push(f);
  }
  assert.deepEqual(stale, [], `dist/ is out of date: ${stale.join(', ')}`);
});
