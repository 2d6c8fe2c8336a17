// The pods' command lines, run here exactly as the containers run them: the bundled CLI shipped in ConfigMap parts,
// unpacked by the init container's script, then `seed` and `manifest` with the argv the platform builds. The data
// must be byte-identical to the local platform's generator.
import { runProcess } from '../helpers/process.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { workloadSchema } from '../../src/config/schema.ts';
import { CLI_PATH, UNPACK_SCRIPT, cliConfigMaps, manifestCommand, seedCommand } from '../../src/platform/kubernetes/objects.ts';
import { parseManifestOutput } from '../../src/platform/kubernetes/integrity.ts';
import { buildManifest } from '../../src/metrics/manifest.ts';
import { seedProxy } from '../../src/workloads/mesh-proxy.ts';

const bundle = fileURLToPath(new URL('../../dist/cli/index.js', import.meta.url));

function run(argv: string[], timeoutMs = 60_000) {
  const [cmd, ...args] = argv;
  // "node" in the container is this test's node binary here.
  return runProcess(cmd === 'node' ? process.execPath : cmd!, args, { timeoutMs });
}

/** Replace the container paths (/pvbench, /cli-parts, /data) by directories under `root`. */
function local(argv: string[], root: string): string[] {
  return argv.map((a) => (a === CLI_PATH ? join(root, 'pvbench', 'cli.mjs') : a === '/data' ? join(root, 'data') : a === '/cli-parts' ? join(root, 'cli-parts') : a));
}

test('the bundled CLI, shipped in ConfigMap parts, seeds the same bytes as the local generator', { skip: existsSync(bundle) ? false : 'dist/cli/index.js is not built' }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'pvbench-podcli-'));
  try {
    const workload = workloadSchema.parse({ proxies: 3, accessLogLines: 300, statsSnapshots: 2, clusters: 5 });
    const { objects, bundle: b } = cliConfigMaps('ns', 'run', gzipSync(await readFile(bundle), { level: 9 }));
    assert.ok(objects.every((o) => Buffer.byteLength(JSON.stringify(o)) < 1024 * 1024), 'every ConfigMap stays under the 1 MiB object limit');
    await mkdir(join(root, 'cli-parts'), { recursive: true });
    for (const [i, o] of objects.entries()) await writeFile(join(root, 'cli-parts', `part-${String(i).padStart(3, '0')}`), Buffer.from((o.binaryData as Record<string, string>).part!, 'base64'));
    assert.equal(b.configMaps.length, objects.length);
    const unpack = await run(local(['node', '-e', UNPACK_SCRIPT, '/cli-parts', CLI_PATH], root));
    assert.equal(unpack.code, 0, unpack.stderr);

    const seeded = await run(local(seedCommand(2, 1234, workload), root));
    assert.equal(seeded.code, 0, seeded.stderr);
    const fromPod = parseManifestOutput((await run(local(manifestCommand(), root))).stdout);

    const reference = join(root, 'reference');
    await seedProxy(reference, workload, 1234, 2);
    assert.deepEqual(fromPod, await buildManifest(reference));
    assert.ok(fromPod.files.length >= 4);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
