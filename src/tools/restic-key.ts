// restic's repository key file, read and rewritten by pvbench (issue 11).
//
// restic derives a user key from the password with scrypt on every command, and `restic init` calibrates scrypt's
// cost to about 0.5 s on the machine it runs on, differently on every run (p from 4 to 7 seen here). That cost is not
// the backup tool's data path, yet it was most of what pvbench reported for restic, and it moved between runs. So
// after `restic init`, pvbench re-encrypts the same master key under a user key derived with fixed parameters, the
// way `restic key add` would, and removes the calibrated key file.
//
// The format, from restic's internal/repository/key.go and internal/crypto/{crypto,kdf}.go (the same in v0.14.0
// and v0.18.1):
// - keys/<id> holds JSON {created, username, hostname, kdf: "scrypt", N, r, p, salt, data}; salt (64 bytes) and
//   data are base64; <id> is the hex SHA-256 of the file's bytes.
// - scrypt(password, salt, N, r, p) gives 64 bytes: the AES-256 encryption key (32), then the Poly1305-AES MAC key
//   as k (16, the AES-128 key that encrypts the nonce) || r (16, clamped).
// - data = IV (16) || AES-256-CTR(plaintext) || Poly1305-AES MAC (16) of the ciphertext, with the IV as the nonce.
// - the plaintext is JSON {"mac": {"k": base64, "r": base64}, "encrypt": base64}: the repository's master key.
import { createCipheriv, createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { chmod, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/**
 * The parameters pvbench writes: restic's own DefaultKDFParams (simple-scrypt's DefaultParams, N=2^14, r=8, p=1:
 * 16 MiB), the point restic's calibration starts from and what it falls back to. Chosen because restic
 * itself ships them as valid, and they are cheap and the same on every run and machine: on this project's 2-core
 * machine node's scrypt takes about 37 ms with them, against about 380 ms for what `restic init` calibrated here
 * (N=2^15, r=8, p=5). pvbench's password is 24 random bytes per run, so stretching it protects nothing.
 */
export const FIXED_SCRYPT: Readonly<ScryptParams> = Object.freeze({ N: 16384, r: 8, p: 1 });

/** A key file as restic writes it (Go's field order). */
export interface ResticKeyFile {
  created: string;
  username: string;
  hostname: string;
  kdf: string;
  N: number;
  r: number;
  p: number;
  salt: string;
  data: string;
}

/** The repository's master key, as the key file's encrypted JSON holds it. */
export interface MasterKey {
  /** The decrypted JSON, byte for byte: re-encrypted as it is, so the master key cannot change on the way. */
  json: Buffer;
  encrypt: Buffer;
  mac: { k: Buffer; r: Buffer };
}

/** What scrypt derives from the password: the keys that encrypt and authenticate the master key. */
export interface UserKey {
  encrypt: Buffer;
  macK: Buffer;
  macR: Buffer;
}

export class ResticKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResticKeyError';
  }
}

const SALT_BYTES = 64;
const IV_BYTES = 16;
const MAC_BYTES = 16;

export function formatParams(p: ScryptParams): string {
  return `scrypt N=${p.N},r=${p.r},p=${p.p}`;
}

/** The checks restic makes before it derives a key (simple-scrypt's Params.Check), plus N a power of 2 as scrypt needs. */
export function checkParams(p: ScryptParams): void {
  const maxInt = 2 ** 31 - 1;
  const ok =
    [p.N, p.r, p.p].every((v) => Number.isSafeInteger(v)) &&
    p.N > 1 &&
    p.N <= maxInt &&
    (p.N & (p.N - 1)) === 0 &&
    p.r >= 1 &&
    p.p >= 1 &&
    p.r * p.p < 2 ** 30 &&
    p.r <= Math.floor(maxInt / 128 / p.p) &&
    p.r <= Math.floor(maxInt / 256) &&
    p.N <= Math.floor(maxInt / 128 / p.r);
  if (!ok) throw new ResticKeyError(`${formatParams(p)} are not valid scrypt parameters for restic`);
}

// Poly1305 is not in node:crypto as a primitive of its own (only inside the ChaCha20-Poly1305 AEAD, whose one-time
// key comes from ChaCha20, not from AES as restic's Poly1305-AES needs), and no package in node_modules provides
// it; a maintained one (e.g. @noble/ciphers) would be a new dependency for ~20 lines. So it is written here with
// BigInt, after RFC 8439 section 2.5 and checked against its test vector and those of the Poly1305-AES paper.
// Not constant-time: it only ever MACs pvbench's own key file, with pvbench's own random password.
const P1305 = (1n << 130n) - 5n;
const R_CLAMP = 0x0ffffffc0ffffffc0ffffffc0fffffffn;

function littleEndian(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

/** Poly1305 (RFC 8439 section 2.5) of msg with the one-time key r (16 bytes, clamped here) || s (16 bytes). */
export function poly1305(msg: Uint8Array, key: Uint8Array): Buffer {
  if (key.length !== 32) throw new RangeError(`poly1305 needs a 32-byte key, got ${key.length}`);
  const r = littleEndian(key.subarray(0, 16)) & R_CLAMP;
  const s = littleEndian(key.subarray(16, 32));
  let acc = 0n;
  for (let i = 0; i < msg.length; i += 16) {
    const block = msg.subarray(i, i + 16);
    acc = ((acc + (littleEndian(block) | (1n << BigInt(8 * block.length)))) * r) % P1305;
  }
  let tag = (acc + s) & ((1n << 128n) - 1n);
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++, tag >>= 8n) out[i] = Number(tag & 0xffn);
  return out;
}

/** Poly1305-AES as restic uses it: the one-time key is r || AES-128_k(nonce). */
export function poly1305Aes(msg: Uint8Array, nonce: Uint8Array, k: Uint8Array, r: Uint8Array): Buffer {
  const aes = createCipheriv('aes-128-ecb', k, null).setAutoPadding(false);
  const s = Buffer.concat([aes.update(nonce), aes.final()]);
  return poly1305(msg, Buffer.concat([r, s]));
}

function scryptAsync(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  // node refuses more than 32 MiB by default; scrypt needs about 128·r·N bytes, plus 128·r·p.
  const maxmem = 128 * params.r * (params.N + params.p + 2) + (32 << 20);
  return new Promise((resolve, reject) => scrypt(password, salt, 64, { N: params.N, r: params.r, p: params.p, maxmem }, (err, key) => (err ? reject(err) : resolve(key))));
}

/** scrypt as restic's crypto.KDF calls it: 64 bytes, split into the AES key and the Poly1305-AES key k || r. */
export async function deriveUserKey(password: string, salt: Buffer, params: ScryptParams): Promise<UserKey> {
  checkParams(params);
  if (salt.length !== SALT_BYTES) throw new ResticKeyError(`the key's salt has ${salt.length} bytes; restic uses ${SALT_BYTES}`);
  const bytes = await scryptAsync(password, salt, params);
  return { encrypt: bytes.subarray(0, 32), macK: bytes.subarray(32, 48), macR: bytes.subarray(48, 64) };
}

/** Time (ms) one derivation with these parameters takes here, with node's scrypt (OpenSSL's, not restic's Go code). */
export async function measureKeyDerivation(params: ScryptParams): Promise<number> {
  const t0 = performance.now();
  await deriveUserKey('pvbench', randomBytes(SALT_BYTES), params);
  return performance.now() - t0;
}

/** IV || AES-256-CTR(plaintext) || Poly1305-AES(ciphertext, nonce = IV), as restic's Key.Seal makes it. */
export function seal(key: UserKey, plaintext: Buffer, iv: Buffer = randomBytes(IV_BYTES)): Buffer {
  const ctr = createCipheriv('aes-256-ctr', key.encrypt, iv);
  const ciphertext = Buffer.concat([ctr.update(plaintext), ctr.final()]);
  return Buffer.concat([iv, ciphertext, poly1305Aes(ciphertext, iv, key.macK, key.macR)]);
}

/** The plaintext of seal(), after the MAC is verified; null when it does not verify (wrong key, damaged data). */
export function open(key: UserKey, data: Buffer): Buffer | null {
  if (data.length < IV_BYTES + MAC_BYTES) return null;
  const iv = data.subarray(0, IV_BYTES);
  const ciphertext = data.subarray(IV_BYTES, data.length - MAC_BYTES);
  const mac = data.subarray(data.length - MAC_BYTES);
  if (!timingSafeEqual(poly1305Aes(ciphertext, iv, key.macK, key.macR), mac)) return null;
  const ctr = createCipheriv('aes-256-ctr', key.encrypt, iv);
  return Buffer.concat([ctr.update(ciphertext), ctr.final()]);
}

function parseKeyFile(text: string, name: string): ResticKeyFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ResticKeyError(`restic key ${name} is not JSON: the key file is damaged`);
  }
  const k = raw as Partial<ResticKeyFile>;
  if (k.kdf !== 'scrypt') throw new ResticKeyError(`restic key ${name} uses kdf ${JSON.stringify(k.kdf)}; only scrypt is known`);
  for (const f of ['N', 'r', 'p'] as const) if (typeof k[f] !== 'number') throw new ResticKeyError(`restic key ${name} has no scrypt parameter ${f}: the key file is damaged`);
  for (const f of ['salt', 'data'] as const) if (typeof k[f] !== 'string') throw new ResticKeyError(`restic key ${name} has no ${f}: the key file is damaged`);
  return k as ResticKeyFile;
}

function parseMasterKey(json: Buffer, name: string): MasterKey {
  try {
    const m = JSON.parse(json.toString('utf8')) as { mac?: { k?: string; r?: string }; encrypt?: string };
    const key = { json, encrypt: Buffer.from(m.encrypt ?? '', 'base64'), mac: { k: Buffer.from(m.mac?.k ?? '', 'base64'), r: Buffer.from(m.mac?.r ?? '', 'base64') } };
    const nonzero = (b: Buffer) => b.some((x) => x !== 0);
    if (key.encrypt.length === 32 && key.mac.k.length === 16 && key.mac.r.length === 16 && nonzero(key.encrypt) && nonzero(key.mac.k) && nonzero(key.mac.r)) return key;
  } catch {
    // reported below
  }
  throw new ResticKeyError(`restic key ${name} decrypts to no valid master key: the key file is damaged`);
}

export interface OpenedKey {
  file: ResticKeyFile;
  params: ScryptParams;
  master: MasterKey;
  /** How long deriving the user key took (node's scrypt, ms). */
  derivationMs: number;
}

/** Decrypts a key file's master key with the password; a wrong password or a damaged file is a ResticKeyError. */
export async function openKeyFile(text: string, password: string, name = 'file'): Promise<OpenedKey> {
  const file = parseKeyFile(text, name);
  const params = { N: file.N, r: file.r, p: file.p };
  const t0 = performance.now();
  const user = await deriveUserKey(password, Buffer.from(file.salt, 'base64'), params);
  const derivationMs = performance.now() - t0;
  const json = open(user, Buffer.from(file.data, 'base64'));
  if (!json) throw new ResticKeyError(`restic key ${name}: wrong password, or the key file is damaged (its MAC does not verify)`);
  return { file, params, master: parseMasterKey(json, name), derivationMs };
}

/** A new key file (its text) holding the master key, under a user key derived with `params` and a fresh salt. */
export async function sealKeyFile(master: MasterKey, password: string, params: ScryptParams, meta: Pick<ResticKeyFile, 'username' | 'hostname'>): Promise<{ text: string; derivationMs: number }> {
  const salt = randomBytes(SALT_BYTES);
  const t0 = performance.now();
  const user = await deriveUserKey(password, salt, params);
  const derivationMs = performance.now() - t0;
  const file: ResticKeyFile = {
    created: new Date().toISOString(),
    username: meta.username,
    hostname: meta.hostname,
    kdf: 'scrypt',
    N: params.N,
    r: params.r,
    p: params.p,
    salt: salt.toString('base64'),
    data: seal(user, master.json).toString('base64'),
  };
  return { text: JSON.stringify(file), derivationMs };
}

/** The name restic gives a key file: the hex SHA-256 of its bytes. */
export function keyFileName(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The repository's one key file (pvbench's repositories have exactly one). */
export async function readRepositoryKey(repo: string): Promise<{ name: string; text: string }> {
  const names = (await readdir(join(repo, 'keys'))).filter((n) => /^[0-9a-f]{64}$/.test(n));
  if (names.length !== 1) throw new ResticKeyError(`${join(repo, 'keys')} holds ${names.length} key files; pvbench rewrites a repository with exactly one`);
  const name = names[0]!;
  return { name, text: await readFile(join(repo, 'keys', name), 'utf8') };
}

/** The master key of a repository, opened with the password, as seal() and open() take it (config, pack headers). */
export async function openMasterKey(repo: string, password: string): Promise<UserKey> {
  const key = await readRepositoryKey(repo);
  const { master } = await openKeyFile(key.text, password, key.name);
  return { encrypt: master.encrypt, macK: master.mac.k, macR: master.mac.r };
}

export interface KeyRewrite {
  removed: string;
  written: string;
  from: ScryptParams;
  to: ScryptParams;
  /** Derivation time with the old and the new parameters (node's scrypt, ms). */
  fromMs: number;
  toMs: number;
}

/**
 * Replaces the repository's key file with one that holds the same master key, its user key derived from the same
 * password with `params`. The new file is in place (written beside keys/, renamed into it, read-only as restic makes
 * it) before the old one is removed, so the repository always has a key that opens it.
 */
export async function rewriteRepositoryKey(repo: string, password: string, params: ScryptParams = FIXED_SCRYPT): Promise<KeyRewrite> {
  const old = await readRepositoryKey(repo);
  const opened = await openKeyFile(old.text, password, old.name);
  const meta = {
    username: opened.file.username ?? userInfo().username,
    hostname: opened.file.hostname ?? hostname(),
  };
  const fresh = await sealKeyFile(opened.master, password, params, meta);
  const name = keyFileName(fresh.text);
  const tmp = join(repo, `.pvbench-key-${name}.tmp`); // not in keys/, where restic would try to read it
  await writeFile(tmp, fresh.text, { mode: 0o600 });
  await chmod(tmp, 0o400);
  await rename(tmp, join(repo, 'keys', name));
  await rm(join(repo, 'keys', old.name));
  return { removed: old.name, written: name, from: opened.params, to: { ...params }, fromMs: opened.derivationMs, toMs: fresh.derivationMs };
}
