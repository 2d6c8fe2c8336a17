// Deterministic randomness for the whole project (workloads, faults, bootstrap): the same seed gives the same
// stream on every machine.

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  /** A lowercase hex string of `chars` characters. */
  hex(chars: number): string;
}

/**
 * mulberry32: a 32-bit state PRNG (Tommy Ettinger's construction): add the Weyl constant 0x6D2B79F5 to the
 * state, then mix with two multiply-xorshift rounds. Uniform in [0, 1).
 */
export function mulberry32(seed: number): () => number {
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
export function hashSeed(text: string, basis = 0x811c9dc5): number {
  let h = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function seededRandom(seed: number): Random {
  const next = mulberry32(seed ^ 0x9e3779b9);
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    pick: <T>(items: readonly T[]): T => items[int(items.length)] as T,
    hex: (chars: number): string => {
      let s = '';
      while (s.length < chars) s += Math.floor(next() * 0x100000000).toString(16).padStart(8, '0');
      return s.slice(0, chars);
    },
  };
}

/** Derive an independent seed for a named sub-stream (a proxy, a trial, a fault). */
export function deriveSeed(seed: number, ...parts: (string | number)[]): number {
  return hashSeed(parts.join('/'), seed ^ 0x811c9dc5);
}
