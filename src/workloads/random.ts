// Deterministic randomness for the whole project (workloads, faults, bootstrap): the same seed gives the same
// stream on every machine.
//
// The functions live in one self-contained factory (no imports, no free variables) so that the workload
// generator's worker threads can run its source text (see mesh-proxy.ts); everything else uses the instance below.

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  /** A lowercase hex string of `chars` characters. */
  hex(chars: number): string;
}

export function randomKit() {
  /**
   * mulberry32: a 32-bit state PRNG (Tommy Ettinger's construction): add the Weyl constant 0x6D2B79F5 to the
   * state, then mix with two multiply-xorshift rounds. Uniform in [0, 1).
   */
  function mulberry32(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  /** FNV-1a 32-bit hash of a string (UTF-16 code units), from an optional offset basis. */
  function hashSeed(text: string, basis = 0x811c9dc5): number {
    let h = basis >>> 0;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h >>> 0;
  }

  /** Two hex digits per byte value. */
  const HEX2: string[] = [];
  for (let b = 0; b < 256; b++) HEX2.push((b < 16 ? '0' : '') + b.toString(16));

  function seededRandom(seed: number): Random {
    const next = mulberry32(seed ^ 0x9e3779b9);
    const int = (n: number): number => Math.floor(next() * n);
    return {
      next,
      int,
      pick: <T>(items: readonly T[]): T => items[int(items.length)] as T,
      hex: (chars: number): string => {
        // Eight digits per draw (its 32 bits, zero-padded), as many draws as it takes.
        let s = '';
        while (s.length < chars) {
          const u = next() * 4294967296;
          s += HEX2[u >>> 24]! + HEX2[(u >>> 16) & 255]! + HEX2[(u >>> 8) & 255]! + HEX2[u & 255]!;
        }
        return s.length === chars ? s : s.slice(0, chars);
      },
    };
  }

  /** Derive an independent seed for a named sub-stream (a proxy, a trial, a fault). */
  function deriveSeed(seed: number, ...parts: (string | number)[]): number {
    return hashSeed(parts.join('/'), seed ^ 0x811c9dc5);
  }

  return { mulberry32, hashSeed, seededRandom, deriveSeed };
}

export type RandomKit = ReturnType<typeof randomKit>;

const kit = randomKit();
export const mulberry32 = kit.mulberry32;
export const hashSeed = kit.hashSeed;
export const seededRandom = kit.seededRandom;
export const deriveSeed = kit.deriveSeed;
