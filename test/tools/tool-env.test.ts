// Issue 8: local tools run with an environment pvbench builds, not whatever the user's shell exports. A user's
// RESTIC_* / KOPIA_* variables (a password file, a repository file, a cache directory, a compression level ...)
// would otherwise change what is measured, or make the tool refuse to run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalPlatform } from '../../src/platform/local/platform.ts';
import { toolEnv } from '../../src/tools/tool-env.ts';
import { runs } from '../helpers/process.ts';

const hasRestic = runs('restic', ['version']);

let scratch: string;
let platform: LocalPlatform;
const saved = { ...process.env };
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'pvbench-toolenv-'));
  platform = new LocalPlatform({ keep: false, timeoutMs: 120_000, workdir: scratch });
  await platform.prepare();
});
after(async () => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
  await platform.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

test('toolEnv: drops the user variables with the prefix, keeps the rest, sets its own', () => {
  const base = { PATH: '/usr/bin', HOME: '/root', LANG: 'C.UTF-8', TMPDIR: '/tmp', RESTIC_PASSWORD_FILE: '/x', RESTIC_CACHE_DIR: '/c', RESTIC_PASSWORD: 'users', KOPIA_PASSWORD: 'k' };
  const { env, ignored } = toolEnv('RESTIC_', { RESTIC_PASSWORD: 'ours', RESTIC_REPOSITORY: '/repo' }, base);
  assert.deepEqual(env, { PATH: '/usr/bin', HOME: '/root', LANG: 'C.UTF-8', TMPDIR: '/tmp', KOPIA_PASSWORD: 'k', RESTIC_PASSWORD: 'ours', RESTIC_REPOSITORY: '/repo' });
  // The user's RESTIC_PASSWORD is replaced by pvbench's, so it is ignored too; names only, sorted.
  assert.deepEqual(ignored, ['RESTIC_CACHE_DIR', 'RESTIC_PASSWORD', 'RESTIC_PASSWORD_FILE']);
  assert.deepEqual(toolEnv('KOPIA_', { KOPIA_PASSWORD: 'p' }, base).ignored, ['KOPIA_PASSWORD']);
  assert.deepEqual(toolEnv('RESTIC_', {}, { PATH: '/bin' }), { env: { PATH: '/bin' }, ignored: [] });
});

test('restic: a user RESTIC_PASSWORD_FILE / RESTIC_REPOSITORY_FILE / RESTIC_PASSWORD_COMMAND does not change what pvbench runs', { skip: !hasRestic && 'restic is not installed' }, async () => {
  const decoyRepo = join(scratch, 'decoy-repo');
  await writeFile(join(scratch, 'password'), 'not-pvbench-s-password\n');
  await writeFile(join(scratch, 'repository'), decoyRepo + '\n');
  process.env.RESTIC_PASSWORD_FILE = join(scratch, 'password');
  process.env.RESTIC_REPOSITORY_FILE = join(scratch, 'repository');
  process.env.RESTIC_PASSWORD_COMMAND = 'echo not-pvbench-s-password';
  process.env.RESTIC_KEY_HINT = 'ffffffff';
  try {
    const tool = platform.createTool({ type: 'restic', options: {} });
    const probe = await tool.probe();
    assert.ok(probe.ok);
    assert.deepEqual(probe.notes, [
      'ignoring RESTIC_KEY_HINT, RESTIC_PASSWORD_COMMAND, RESTIC_PASSWORD_FILE, RESTIC_REPOSITORY_FILE from the environment: pvbench sets restic\'s environment itself',
    ]);
    await tool.init('env-1');
    const volumes = await platform.seedVolumes('env-1', { kind: 'mesh-proxy', proxies: 1, accessLogLines: 50, statsSnapshots: 1, clusters: 2, churn: { appendLines: 0, rewriteConfig: false, newStats: 0 } }, 7);
    const { snapshotId } = await tool.backup(volumes);
    assert.deepEqual(await tool.snapshots(), [snapshotId]);
    const target = await platform.emptyVolumes('env-1-restore', volumes);
    await tool.restore(snapshotId, target);
    assert.equal(await readFile(join(target.location, 'proxy-0', 'config_dump.json'), 'utf8'), await readFile(join(volumes.location, 'proxy-0', 'config_dump.json'), 'utf8'));
    await assert.rejects(readdir(decoyRepo), { code: 'ENOENT' }, 'the repository the user named is untouched');
    await tool.cleanup();
  } finally {
    for (const k of ['RESTIC_PASSWORD_FILE', 'RESTIC_REPOSITORY_FILE', 'RESTIC_PASSWORD_COMMAND', 'RESTIC_KEY_HINT']) delete process.env[k];
  }
});

test('kopia: a user KOPIA_* variable does not reach the kopia pvbench runs', async () => {
  // A stand-in kopia that records the environment it was given: kopia itself is not packaged in Debian.
  const bin = join(scratch, 'fake-bin');
  const envOut = join(scratch, 'kopia-env.txt');
  await mkdir(bin, { recursive: true });
  // It writes the config file it is given, as kopia does: pvbench points the per-trial copy of it at the copy.
  const writeConfig = `prev=\nfor a in "$@"; do if [ "$prev" = --config-file ]; then printf '%s' '{"storage":{"type":"filesystem","config":{"path":"x"}},"caching":{"cacheDirectory":"cache"}}' > "$a"; fi; prev=$a; done\n`;
  await writeFile(join(bin, 'kopia'), `#!/bin/sh\nif [ "$1" = --version ]; then echo "0.0.0-fake"; exit 0; fi\nenv > '${envOut}'\n${writeConfig}`);
  await chmod(join(bin, 'kopia'), 0o755);
  process.env.PATH = `${bin}:${saved.PATH ?? ''}`;
  process.env.KOPIA_CONFIG_PATH = join(scratch, 'users-kopia.config');
  process.env.KOPIA_PASSWORD = 'users-password';
  process.env.PVBENCH_TOOL_ENV_TEST = 'kept';
  try {
    const tool = platform.createTool({ type: 'kopia', options: {} });
    const probe = await tool.probe();
    assert.ok(probe.ok);
    assert.deepEqual(probe.notes, ["ignoring KOPIA_CONFIG_PATH, KOPIA_PASSWORD from the environment: pvbench sets kopia's environment itself"]);
    await tool.init('env-kopia');
    const env = new Map((await readFile(envOut, 'utf8')).trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
    assert.equal(env.get('PVBENCH_TOOL_ENV_TEST'), 'kept');
    assert.equal(env.has('KOPIA_CONFIG_PATH'), false);
    assert.match(env.get('KOPIA_PASSWORD') ?? '', /^[0-9a-f]{48}$/, "pvbench's generated password, not the user's");
    assert.deepEqual([...env.keys()].filter((k) => k.startsWith('KOPIA_')).sort(), ['KOPIA_CHECK_FOR_UPDATES', 'KOPIA_LOG_DIR', 'KOPIA_PASSWORD']);
  } finally {
    for (const k of ['KOPIA_CONFIG_PATH', 'KOPIA_PASSWORD', 'PVBENCH_TOOL_ENV_TEST']) delete process.env[k];
    process.env.PATH = saved.PATH;
  }
});
