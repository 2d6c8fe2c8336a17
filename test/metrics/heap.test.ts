// pvbench's process keeps V8's young generation at its starting size (issue 11: memory flat in the file count).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** In a fresh process: a stream of small objects, a window of them alive at each scavenge; the new space after. */
function newSpaceMiB(bounded: boolean): Promise<number> {
  const script = `
    ${bounded ? `const { keepYoungGenerationSmall } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'src/metrics/heap.ts')).href)}); keepYoungGenerationSmall();` : ''}
    const { getHeapSpaceStatistics } = await import('node:v8');
    const window = new Array(50000);
    for (let i = 0; i < 6_000_000; i++) window[i % window.length] = { path: 'proxy-' + i, size: i, sha256: String(i).padStart(64, '0') };
    const space = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    process.stdout.write(String(space.space_size / 1048576));
  `;
  return new Promise((res, rej) =>
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 120_000 }, (err, out) => (err ? rej(err) : res(Number(out)))),
  );
}

test('the young generation stays at its starting size under a stream of short-lived objects', async () => {
  const [unbounded, bounded] = await Promise.all([newSpaceMiB(false), newSpaceMiB(true)]);
  assert.ok(bounded <= 8, `new space ${bounded} MiB with keepYoungGenerationSmall (V8 left alone: ${unbounded} MiB)`);
});
