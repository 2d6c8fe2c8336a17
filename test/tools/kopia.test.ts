// kopia on the local platform: one repository created per run and copied per trial, with the key derivation the
// tool's options choose (kopia is not in Debian: skipped where it is not installed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suiteSchema } from '../../src/config/schema.ts';
import { LocalPlatform } from '../../src/platform/local/platform.ts';
import { KopiaTool } from '../../src/tools/kopia.ts';
import { runs } from '../helpers/process.ts';

const hasKopia = runs('kopia', ['--version']);
const workload = suiteSchema.parse({ workload: { proxies: 1, accessLogLines: 100, statsSnapshots: 2, clusters: 2 } }).workload;

let platform: LocalPlatform;
before(async () => {
  platform = new LocalPlatform({ keep: false, timeoutMs: 60_000 });
  await platform.prepare();
});
after(() => platform.cleanup());

const keyAlgo = async (repo: string) => (JSON.parse(await readFile(join(repo, 'data', 'kopia.repository.f'), 'utf8')) as { keyAlgo: string }).keyAlgo;

test('kopia: the template repository, copied per trial, each copy its own (config pointed at it), pbkdf2 by default, scrypt on request', { skip: !hasKopia && 'kopia is not installed' }, async () => {
  for (const [option, algo] of [[undefined, 'pbkdf2-sha256-600000'], ['scrypt', 'scrypt-65536-8-1']] as const) {
    const name = option ?? 'kopia';
    const tool = platform.createTool({ type: 'kopia', name, options: option ? { keyDerivation: option } : {} }) as KopiaTool;
    const repos: string[] = [];
    assert.equal(tool.keyDerivation(), undefined, 'not known before the first repository');
    for (const trial of ['t1', 't2']) {
      await tool.init(trial);
      // The format key's derivation, as kopia repeats it on every command: its algorithm, timed once per run.
      const kd = tool.keyDerivation();
      if (option === 'scrypt') assert.deepEqual({ ...kd, ms: 0 }, { mode: 'tool-default', kdf: 'scrypt', N: 65536, r: 8, p: 1, ms: 0 });
      else assert.deepEqual({ ...kd, ms: 0 }, { mode: 'fixed', kdf: 'pbkdf2-sha256', iterations: 600_000, ms: 0 });
      assert.ok(kd && kd.ms > 5 && kd.ms < 5000, `600,000 sha256 HMAC rounds or 64 MiB of scrypt take tens of ms or more: ${kd?.ms} ms`);
      const repo = join(platform.dir, 'repos', name, trial);
      repos.push(repo);
      assert.equal(await keyAlgo(repo), algo);
      const config = JSON.parse(await readFile(join(repo, 'kopia.config'), 'utf8')) as { storage: { config: { path: string } } };
      assert.equal(config.storage.config.path, join(repo, 'data'));
      const volumes = await platform.seedVolumes(`${name}-${trial}`, workload, 1);
      const { snapshotId } = await tool.backup(volumes);
      assert.deepEqual(await tool.snapshots(), [snapshotId], 'each trial sees its own snapshots only');
    }
  }
});
