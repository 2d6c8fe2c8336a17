// restic's content-defined chunker cuts files where a rolling Rabin fingerprint modulo the repository's chunker
// polynomial matches, and `restic init` draws that polynomial at random (an irreducible polynomial of degree 53 over
// GF(2)). Chunk boundaries, and so what an incremental backup adds and how large the repository grows, therefore
// differ from one repository to the next: two runs of the same code on the same seeded workload measured the
// incremental backup adding 1.7, 4.3 and 4.9 MB, and the 2% gate on repository size flagged a run compared with an
// identical one (+11%). pvbench gives every repository the same polynomial, one of its own, drawn from a fixed seed
// and checked irreducible here, written into the repository's config with the master key (the same authenticated
// encryption as the key file, see restic-key.ts). Same workload, same chunks, in every run.
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mulberry32 } from '../baseline/stats.ts';
import { open, openMasterKey, ResticKeyError, seal } from './restic-key.ts';
import type { UserKey } from './restic-key.ts';

/** Polynomials over GF(2) as bit sets: bit i is the coefficient of x^i. */
export function degree(p: bigint): number {
  return p === 0n ? -1 : p.toString(2).length - 1;
}

/** a mod m over GF(2). */
export function polMod(a: bigint, m: bigint): bigint {
  const dm = degree(m);
  if (dm < 0) throw new RangeError('modulo the zero polynomial');
  let r = a;
  for (let d = degree(r); d >= dm; d = degree(r)) r ^= m << BigInt(d - dm);
  return r;
}

/** a · b mod m over GF(2). */
export function polMulMod(a: bigint, b: bigint, m: bigint): bigint {
  let r = 0n;
  let x = polMod(a, m);
  for (let y = b; y > 0n; y >>= 1n) {
    if (y & 1n) r ^= x;
    x = polMod(x << 1n, m);
  }
  return r;
}

/** The greatest common divisor over GF(2). */
export function polGcd(a: bigint, b: bigint): bigint {
  let [x, y] = [a, b];
  while (y !== 0n) [x, y] = [y, polMod(x, y)];
  return x;
}

/**
 * Ben-Or's test: f of degree d > 0 is irreducible over GF(2) iff gcd(f, x^(2^i) − x mod f) = 1 for every
 * i from 1 to d / 2 (a factor of degree i would divide x^(2^i) − x).
 */
export function irreducible(f: bigint): boolean {
  const d = degree(f);
  if (d < 1) return false;
  let power = polMod(4n, f); // x^(2^i) mod f, from i = 1: x²
  for (let i = 1; i <= Math.floor(d / 2); i++) {
    if (polGcd(f, power ^ 2n) !== 1n) return false;
    power = polMulMod(power, power, f);
  }
  return true;
}

/** The seed pvbench draws its chunker polynomial from; a documented constant, so every run gets the same one. */
export const CHUNKER_SEED = 0x70766263; // "pvbc"

/** A random irreducible polynomial of degree 53 (as restic requires), the first one drawn from the seed. */
export function chunkerPolynomial(seed = CHUNKER_SEED): bigint {
  const rand = mulberry32(seed);
  for (let tries = 0; tries < 100_000; tries++) {
    // 53 random low bits with x^53 and the constant term set (without it, x divides the polynomial).
    const hi = BigInt(Math.floor(rand() * 2 ** 21));
    const lo = BigInt(Math.floor(rand() * 2 ** 32));
    const p = (1n << 53n) | (hi << 32n) | lo | 1n;
    if (irreducible(p)) return p;
  }
  throw new Error('no irreducible polynomial found'); // 1 in 53 candidates is one: not reached
}

/** pvbench's chunker polynomial, as restic writes it in a config ("%x"). */
export const FIXED_CHUNKER_POLYNOMIAL = chunkerPolynomial().toString(16);

/** The repository config as restic keeps it (JSON, encrypted with the master key). */
interface ResticConfig {
  version: number;
  id: string;
  chunker_polynomial: string;
}

/**
 * Rewrites the repository's config with `polynomial` as its chunker polynomial (hex), keeping its version and id.
 * Only for a repository that holds no data yet (right after `restic init`): blobs already cut with another
 * polynomial would stay, and deduplication against them would be lost. Returns the polynomial it replaced.
 */
export async function setChunkerPolynomial(repo: string, password: string, polynomial = FIXED_CHUNKER_POLYNOMIAL): Promise<string> {
  if (!/^[0-9a-f]+$/.test(polynomial) || degree(BigInt(`0x${polynomial}`)) !== 53 || !irreducible(BigInt(`0x${polynomial}`))) {
    throw new ResticKeyError(`chunker polynomial ${polynomial} is not an irreducible polynomial of degree 53`);
  }
  const { mk, path, config } = await openConfig(repo, password);
  const before = config.chunker_polynomial;
  const text = JSON.stringify({ version: config.version, id: config.id, chunker_polynomial: polynomial });
  const tmp = join(repo, '.pvbench-config.tmp');
  await writeFile(tmp, seal(mk, Buffer.from(text)), { mode: 0o600 });
  await chmod(tmp, 0o400);
  await rename(tmp, path); // replaces the old config in one step
  return before;
}

/** The repository's chunker polynomial, as its config says. */
export async function readChunkerPolynomial(repo: string, password: string): Promise<string> {
  return (await openConfig(repo, password)).config.chunker_polynomial;
}

/** The repository's config, decrypted with its master key. */
async function openConfig(repo: string, password: string): Promise<{ mk: UserKey; path: string; config: ResticConfig }> {
  const mk = await openMasterKey(repo, password);
  const path = join(repo, 'config');
  const plain = open(mk, await readFile(path));
  if (!plain) throw new ResticKeyError(`${path} does not decrypt with the repository's master key: the config is damaged`);
  let config: ResticConfig;
  try {
    config = JSON.parse(plain.toString('utf8')) as ResticConfig;
  } catch {
    throw new ResticKeyError(`${path} decrypts to no JSON: the config is damaged`);
  }
  if (typeof config.chunker_polynomial !== 'string' || typeof config.version !== 'number') throw new ResticKeyError(`${path} has no chunker polynomial: not a restic config pvbench knows`);
  return { mk, path, config };
}
