// A small seeded PRNG (32-bit state, splitmix-style mixing): the same seed gives the same stream on every machine.

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  /** A lowercase hex string of `chars` characters. */
  hex(chars: number): string;
}

export function seededRandom(seed: number): Random {
  let state = (seed ^ 0x9e3779b9) >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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
  let h = (seed ^ 0x811c9dc5) >>> 0;
  for (const ch of parts.join('/')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
