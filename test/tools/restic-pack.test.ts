// restic's pack kinds (data or tree) and the corrupt-repository fault, which damages data packs only: a bit in a tree
// pack can hide every file below it, so a random pick among all packs made "files recovered" a coin toss.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suiteSchema } from '../../src/config/schema.ts';
import { LocalPlatform } from '../../src/platform/local/platform.ts';
import { openKeyFile, readRepositoryKey } from '../../src/tools/restic-key.ts';
import { packKind } from '../../src/tools/restic-pack.ts';
import { seededRandom } from '../../src/workloads/random.ts';
import { runProcess, runs } from '../helpers/process.ts';

const hasRestic = runs('restic', ['version']);
let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'pvbench-pack-'));
});
after(() => rm(scratch, { recursive: true, force: true }));

async function kinds(repo: string, password: string): Promise<Map<string, string | undefined>> {
  const key = await readRepositoryKey(repo);
  const { master } = await openKeyFile(key.text, password, key.name);
  const mk = { encrypt: master.encrypt, macK: master.mac.k, macR: master.mac.r };
  const out = new Map<string, string | undefined>();
  for (const d of await readdir(join(repo, 'data'))) for (const f of await readdir(join(repo, 'data', d))) out.set(join('data', d, f), await packKind(join(repo, 'data', d, f), mk));
  return out;
}

test('a backup of a tree gives data packs and tree packs, told apart by their headers; a wrong key tells nothing', { skip: !hasRestic && 'restic is not installed' }, async () => {
  const repo = join(scratch, 'r1');
  const env = { ...process.env, RESTIC_PASSWORD: 'pw', RESTIC_REPOSITORY: repo };
  assert.equal((await runProcess('restic', ['init'], { env, timeoutMs: 60_000 })).code, 0);
  assert.equal((await runProcess('restic', ['backup', '--no-cache', join(import.meta.dirname, '..')], { env, timeoutMs: 120_000 })).code, 0);
  const k = [...(await kinds(repo, 'pw')).values()];
  assert.ok(k.filter((x) => x === 'data').length >= 1, `data packs: ${k}`);
  assert.ok(k.filter((x) => x === 'tree').length >= 1, `tree packs: ${k}`);
  assert.equal(k.length, k.filter((x) => x === 'data' || x === 'tree').length);
  const [first] = (await kinds(repo, 'pw')).keys();
  assert.equal(await packKind(join(repo, first!), { encrypt: Buffer.alloc(32, 1), macK: Buffer.alloc(16, 2), macR: Buffer.alloc(16, 3) }), undefined);
});

test('corrupt-repository flips bits in restic data packs only, and says how many tree packs it left alone', { skip: !hasRestic && 'restic is not installed' }, async () => {
  const platform = new LocalPlatform({ keep: false, timeoutMs: 120_000, workdir: scratch });
  await platform.prepare();
  try {
    const tool = platform.createTool({ type: 'restic', options: {} });
    assert.equal((await tool.probe()).ok, true);
    await tool.init('pack-1');
    const workload = suiteSchema.parse({ workload: { proxies: 3, accessLogLines: 3000, statsSnapshots: 3 } }).workload;
    const volumes = await platform.seedVolumes('pack-1', workload, 42);
    await tool.backup(volumes);
    const repo = join(platform.dir, 'repos', 'restic', 'pack-1');
    const password = (tool as unknown as { password: string }).password;
    const before = await kinds(repo, password);
    const trees = [...before.values()].filter((x) => x === 'tree').length;
    assert.ok(trees >= 1, 'the backup wrote a tree pack');
    const r = await tool.corruptRepository(20, seededRandom(7).next);
    const flipped = String(r.details.flips).split(' ').map((f) => f.split('@')[0]!);
    assert.equal(flipped.length, 20);
    for (const f of flipped) assert.equal(before.get(f), 'data', `${f} is a data pack`);
    assert.equal(r.details.treePacks, trees);
    assert.equal(r.details.dataPacks, before.size - trees);
    assert.match(r.description, new RegExp(`^flipped 20 bit\\(s\\) in \\d+ of ${before.size - trees} restic data pack\\(s\\) \\(its ${trees} tree pack\\(s\\) left alone\\)$`));
    await platform.dropVolumes(volumes);
    await tool.cleanup();
  } finally {
    await platform.cleanup();
  }
});
