// Issue 11: pvbench rewrites the repository key of restic's template repository with fixed scrypt parameters.
// Poly1305 against published vectors; the key rewrite against real restic (0.14 on PATH, 0.18.1 where the cluster
// cache has it): restic still opens the repository with the same password, the master key is unchanged, a wrong
// password or a damaged key file is a clear error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSuite, ConfigError } from '../../src/config/load.ts';
import { LocalPlatform } from '../../src/platform/local/platform.ts';
import {
  checkParams,
  FIXED_SCRYPT,
  keyFileName,
  open,
  openKeyFile,
  poly1305,
  poly1305Aes,
  readRepositoryKey,
  ResticKeyError,
  rewriteRepositoryKey,
  seal,
} from '../../src/tools/restic-key.ts';
import { runProcess } from '../helpers/process.ts';

const hex = (s: string) => Buffer.from(s.replace(/[^0-9a-f]/gi, ''), 'hex');

test('poly1305: the RFC 8439 section 2.5.2 vector', () => {
  const key = hex('85:d6:be:78:57:55:6d:33:7f:44:52:fe:42:d5:06:a8:01:03:80:8a:fb:0d:b2:fd:4a:bf:f6:af:41:49:f5:1b');
  assert.equal(poly1305(Buffer.from('Cryptographic Forum Research Group'), key).toString('hex'), 'a8061dc1305136c6c22b8baf0c0127a9');
});

test('poly1305-aes: the four vectors of the Poly1305-AES paper (cr.yp.to/mac/poly1305-20050329.pdf, appendix B)', () => {
  const vectors = [
    { msg: 'f3f6', k: 'ec074c835580741701425b623235add6', r: '851fc40c3467ac0be05cc20404f3f700', n: 'fb447350c4e868c52ac3275cf9d4327e', mac: 'f4c633c3044fc145f84f335cb81953de' },
    { msg: '', k: '75deaa25c09f208e1dc4ce6b5cad3fbf', r: 'a0f3080000f46400d0c7e9076c834403', n: '61ee09218d29b0aaed7e154a2c5509cc', mac: 'dd3fab2251f11ac759f0887129cc2ee7' },
    {
      msg: '663cea190ffb83d89593f3f476b6bc24d7e679107ea26adb8caf6652d0656136',
      k: '6acb5f61a7176dd320c5c1eb2edcdc74',
      r: '48443d0bb0d21109c89a100b5ce2c208',
      n: 'ae212a55399729595dea458bc621ff0e',
      mac: '0ee1c16bb73f0f4fd19881753c01cdbe',
    },
    {
      msg: 'ab0812724a7f1e342742cbed374d94d136c6b8795d45b3819830f2c04491faf0990c62e48b8018b2c3e4a0fa3134cb67fa83e158c994d961c4cb21095c1bf9',
      k: 'e1a5668a4d5b66a5f68cc5424ed5982d',
      r: '12976a08c4426d0ce8a82407c4f48207',
      n: '9ae831e743978d3a23527c7128149e3a',
      mac: '5154ad0d2cb26e01274fc51148491f1b',
    },
  ];
  for (const v of vectors) assert.equal(poly1305Aes(hex(v.msg), hex(v.n), hex(v.k), hex(v.r)).toString('hex'), v.mac);
  // r is clamped inside: an unclamped r gives the tag of its clamped form.
  const v = vectors[0]!;
  const unclamped = hex(v.r);
  for (const i of [3, 7, 11, 15]) unclamped[i]! |= 0xf0;
  for (const i of [4, 8, 12]) unclamped[i]! |= 0x03;
  assert.equal(poly1305Aes(hex(v.msg), hex(v.n), hex(v.k), unclamped).toString('hex'), v.mac);
});

test('seal / open: round trip, and any flipped bit or another key fails the MAC', () => {
  const key = { encrypt: randomBytes(32), macK: randomBytes(16), macR: randomBytes(16) };
  const plain = Buffer.from('{"mac":{"k":"x","r":"y"},"encrypt":"z"}');
  const sealed = seal(key, plain);
  assert.equal(sealed.length, 16 + plain.length + 16);
  assert.deepEqual(open(key, sealed), plain);
  for (const at of [0, 16, sealed.length - 1]) {
    const bad = Buffer.from(sealed);
    bad[at]! ^= 0x01;
    assert.equal(open(key, bad), null, `bit flipped at ${at}`);
  }
  assert.equal(open({ ...key, macR: randomBytes(16) }, sealed), null);
  assert.equal(open(key, sealed.subarray(0, 31)), null);
});

test('checkParams: restic accepts what pvbench writes, not what scrypt cannot take', () => {
  assert.doesNotThrow(() => checkParams(FIXED_SCRYPT));
  assert.deepEqual({ ...FIXED_SCRYPT }, { N: 16384, r: 8, p: 1 });
  for (const bad of [{ N: 1, r: 8, p: 1 }, { N: 3000, r: 8, p: 1 }, { N: 16384, r: 0, p: 1 }, { N: 16384, r: 8, p: 0 }, { N: 2 ** 30, r: 8, p: 1 }]) {
    assert.throws(() => checkParams(bad), ResticKeyError, JSON.stringify(bad));
  }
});

// ---- against real restic ----------------------------------------------------------------------------------------

// Debian's (the machine's own) and the current one set-up builds; whichever of them is there.
const binaries = [
  { label: 'restic from Debian (/usr/bin)', bin: '/usr/bin/restic' },
  { label: 'restic 0.18.1 (cluster cache)', bin: join(homedir(), '.cache/pvbench-cluster/bin/restic-v0.18.1/restic') },
].map((b) => {
  try {
    return { ...b, version: execFileSync(b.bin, ['version'], { timeout: 10_000 }).toString().split(' ')[1] };
  } catch {
    return { ...b, version: undefined };
  }
});

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'pvbench-restic-key-'));
  await mkdir(join(scratch, 'data'), { recursive: true });
  await writeFile(join(scratch, 'data', 'a.txt'), 'some data to back up\n'.repeat(1000));
});
after(() => rm(scratch, { recursive: true, force: true }));

// Only PATH and HOME: this test's restic must not see a user's RESTIC_* variables either.
const resticEnv = (repo: string, password: string) => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', RESTIC_REPOSITORY: repo, RESTIC_PASSWORD: password });

for (const b of binaries) {
  test(`key rewrite with ${b.label}: same password, same master key, fixed parameters; restic backs up and lists`, { skip: !b.version && `${b.bin} is not there` }, async () => {
    const repo = join(scratch, `repo-${binaries.indexOf(b)}`);
    const password = randomBytes(24).toString('hex');
    const restic = (...args: string[]) => runProcess(b.bin, ['--no-cache', ...args], { env: resticEnv(repo, password), timeoutMs: 120_000 });
    const init = await restic('init');
    assert.equal(init.code, 0, init.stderr);

    const before = await readRepositoryKey(repo);
    const opened = await openKeyFile(before.text, password, before.name);
    assert.equal(before.name, keyFileName(before.text), "restic names a key file by the SHA-256 of its bytes: pvbench's keyFileName agrees");
    assert.equal(opened.file.kdf, 'scrypt');

    const rw = await rewriteRepositoryKey(repo, password);
    assert.equal(rw.removed, before.name);
    assert.deepEqual(rw.from, { N: opened.file.N, r: opened.file.r, p: opened.file.p });
    assert.deepEqual(rw.to, { N: 16384, r: 8, p: 1 });
    assert.deepEqual(await readdir(join(repo, 'keys')), [rw.written], 'exactly the new key file, the old one removed');
    assert.deepEqual((await readdir(repo)).filter((f) => f.startsWith('.pvbench')), [], 'no temporary file left');
    const after = await readRepositoryKey(repo);
    assert.equal(after.name, keyFileName(after.text));
    assert.equal((await stat(join(repo, 'keys', after.name))).mode & 0o777, 0o400, 'read-only, as restic writes key files');
    const file = JSON.parse(after.text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(file), ['created', 'username', 'hostname', 'kdf', 'N', 'r', 'p', 'salt', 'data']);
    assert.deepEqual([file.kdf, file.N, file.r, file.p], ['scrypt', 16384, 8, 1]);
    assert.deepEqual([file.username, file.hostname], [opened.file.username, opened.file.hostname]);
    assert.equal(Buffer.from(file.salt as string, 'base64').length, 64);
    assert.notEqual(file.salt, opened.file.salt, 'a fresh salt');

    const reopened = await openKeyFile(after.text, password, after.name);
    assert.ok(reopened.master.json.equals(opened.master.json), 'the master key JSON is byte for byte the same');
    assert.ok(reopened.master.encrypt.equals(opened.master.encrypt));
    assert.ok(reopened.master.mac.k.equals(opened.master.mac.k) && reopened.master.mac.r.equals(opened.master.mac.r));

    // restic opens it with the same password: list, back up, list, and its key list shows the new key.
    const empty = await restic('snapshots', '--json');
    assert.equal(empty.code, 0, empty.stderr);
    assert.deepEqual(JSON.parse(empty.stdout), []);
    const backup = await restic('backup', '--json', join(scratch, 'data'));
    assert.equal(backup.code, 0, backup.stderr);
    const listed = await restic('snapshots', '--json');
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual((JSON.parse(listed.stdout) as { paths: string[] }[]).map((s) => s.paths), [[join(scratch, 'data')]]);
    const keys = await restic('key', 'list');
    assert.equal(keys.code, 0, keys.stderr);
    assert.match(keys.stdout, new RegExp(`\\*${after.name.slice(0, 8)}`), 'restic opened the repository with the rewritten key');
    const check = await restic('check', '--read-data');
    assert.equal(check.code, 0, check.stderr + check.stdout);

    // A wrong password: pvbench's own error, and restic's refusal.
    await assert.rejects(openKeyFile(after.text, 'wrong', after.name), (err: unknown) => {
      assert.ok(err instanceof ResticKeyError);
      assert.equal(err.message, `restic key ${after.name}: wrong password, or the key file is damaged (its MAC does not verify)`);
      return true;
    });
    const wrong = await runProcess(b.bin, ['--no-cache', 'snapshots'], { env: resticEnv(repo, 'wrong'), timeoutMs: 60_000 });
    assert.equal(wrong.code, b.version!.startsWith('0.14.') ? 1 : 12, 'restic 0.17 and later exit 12 on a wrong password');
    assert.match(wrong.stderr, /wrong password/);
  });
}

test('a damaged key file is a clear error, not a garbage master key', { skip: !binaries[0]!.version && 'restic is not installed' }, async () => {
  const repo = join(scratch, 'repo-damaged');
  const password = 'pw';
  const init = await runProcess('restic', ['--no-cache', 'init'], { env: resticEnv(repo, password), timeoutMs: 120_000 });
  assert.equal(init.code, 0, init.stderr);
  await rewriteRepositoryKey(repo, password);
  const { name, text } = await readRepositoryKey(repo);
  const file = JSON.parse(text) as { data: string; salt: string };
  const data = Buffer.from(file.data, 'base64');
  data[20]! ^= 0x40; // inside the encrypted master key
  await assert.rejects(openKeyFile(JSON.stringify({ ...file, data: data.toString('base64') }), password, name), {
    name: 'ResticKeyError',
    message: `restic key ${name}: wrong password, or the key file is damaged (its MAC does not verify)`,
  });
  await assert.rejects(openKeyFile(text.slice(0, 40), password, name), { message: `restic key ${name} is not JSON: the key file is damaged` });
  await assert.rejects(openKeyFile(JSON.stringify({ ...file, salt: Buffer.alloc(10).toString('base64') }), password, name), { message: "the key's salt has 10 bytes; restic uses 64" });
  await assert.rejects(openKeyFile(JSON.stringify({ ...file, N: 1000 }), password, name), { message: 'scrypt N=1000,r=8,p=1 are not valid scrypt parameters for restic' });
  // Two key files: pvbench does not guess which one to rewrite.
  await writeFile(join(repo, 'keys', 'f'.repeat(64)), text);
  await assert.rejects(rewriteRepositoryKey(repo, password), { message: `${join(repo, 'keys')} holds 2 key files; pvbench rewrites a repository with exactly one` });
});

// ---- ResticTool: the option and what the run records -----------------------------------------------------------

test('ResticTool: keyDerivation fixed (the default) rewrites the template key; calibrated keeps restic\'s; both record the derivation', { skip: !binaries[0]!.version && 'restic is not installed' }, async () => {
  const platform = new LocalPlatform({ keep: false, timeoutMs: 120_000, workdir: scratch });
  await platform.prepare();
  try {
    const fixed = platform.createTool({ type: 'restic', name: 'r-fixed', options: {} });
    assert.equal(fixed.keyDerivation?.(), undefined, 'not known before the first repository');
    assert.equal(fixed.lockWait?.(), undefined, 'not known before the first repository');
    await fixed.init('t1');
    // restic sleeps 200 ms after writing its lock (internal/restic/lock.go, 0.14 to 0.18); writing, listing and
    // removing the lock file add a few ms. Six processes timed on a loaded machine are off by tens of ms either way
    // (141 ms was seen at load 4): a wide margin, still far from the 0 of a command that does not lock.
    const lw = fixed.lockWait?.();
    assert.ok(lw && lw.pairs >= 3 && lw.pairs <= 8, `3 to 8 pairs (enoughLockPairs): ${lw?.pairs}`);
    assert.ok(lw && lw.ms >= 100 && lw.ms < 450, `the lock wait is restic's 200 ms sleep: ${lw?.ms} ms`);
    const kd = fixed.keyDerivation?.();
    assert.deepEqual({ ...kd, ms: undefined }, { mode: 'fixed', kdf: 'scrypt', N: 16384, r: 8, p: 1, ms: undefined });
    assert.ok(kd && kd.ms > 1 && kd.ms < 5000, `a plausible derivation time: ${kd?.ms} ms`);
    const trialKey = JSON.parse((await readRepositoryKey(join(platform.dir, 'repos', 'r-fixed', 't1'))).text) as { N: number; p: number };
    assert.deepEqual([trialKey.N, trialKey.p], [16384, 1], "the trial's repository is a copy of the rewritten template");
    assert.deepEqual(await fixed.snapshots(), [], 'restic opens the trial repository');
    await fixed.cleanup();

    const calibrated = platform.createTool({ type: 'restic', name: 'r-cal', options: { keyDerivation: 'calibrated' } });
    await calibrated.init('t2');
    const cal = calibrated.keyDerivation?.();
    const key = JSON.parse((await readRepositoryKey(join(platform.dir, 'repos', 'r-cal', 't2'))).text) as { N: number; r: number; p: number };
    assert.equal(cal?.mode, 'calibrated');
    assert.equal(cal.kdf, 'scrypt');
    assert.deepEqual([cal.N, cal.r, cal.p], [key.N, key.r, key.p], "restic's own calibrated parameters, recorded as they are");
    assert.notDeepEqual([key.N, key.r, key.p], [16384, 8, 1], 'restic calibrates to about 0.5 s here, far above the fixed parameters');
    assert.deepEqual(await calibrated.snapshots(), []);
    await calibrated.cleanup();

    assert.throws(() => platform.createTool({ type: 'restic', options: { keyDerivation: 'none' } }), /options\.keyDerivation must be "fixed" or "calibrated", not "none"/);
  } finally {
    await platform.cleanup();
  }
});

test('the suite file: keyDerivation is checked where it is written', () => {
  assert.equal(parseSuite('tools:\n  - type: restic\n    options: { keyDerivation: calibrated }\n', 'k.yaml').tools[0]?.options.keyDerivation, 'calibrated');
  try {
    parseSuite('tools:\n  - type: copy\n  - type: restic\n    options: { keyDerivation: fast }\n', 'k.yaml');
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.problems.length, 1);
    const [p] = err.problems;
    assert.equal(p?.key, 'tools[1].options.keyDerivation');
    assert.equal(p?.line, 4);
    assert.equal(p?.message, `restic's keyDerivation is "fast"`);
    assert.equal(p?.fix, 'use "fixed" or "calibrated" ("fixed" is the default)');
  }
});
