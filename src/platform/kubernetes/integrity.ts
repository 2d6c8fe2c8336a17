// Manifests on Kubernetes are taken per volume (one verifier pod each, on the volume's node) and merged here into
// the same shape as on the local platform: paths "<volume>/<path inside the volume>", sorted.
import type { Manifest, ManifestEntry } from '../../metrics/types.ts';
import type { IntegrityResult } from '../../suite/results.ts';

const MAX_EXAMPLES = 5;

function byPath(a: ManifestEntry, b: ManifestEntry): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

export function mergeVolumeManifests(parts: { volume: string; manifest: Manifest }[]): Manifest {
  const files: ManifestEntry[] = [];
  let bytes = 0;
  for (const { volume, manifest } of parts) {
    for (const f of manifest.files) files.push({ ...f, path: `${volume}/${f.path}` });
    bytes += manifest.bytes;
  }
  files.sort(byPath);
  return { files, bytes };
}

/** The entries of one volume, with the volume prefix removed. */
export function volumePart(manifest: Manifest, volume: string): Manifest {
  const prefix = `${volume}/`;
  const files = manifest.files.filter((f) => f.path.startsWith(prefix)).map((f) => ({ ...f, path: f.path.slice(prefix.length) }));
  return { files, bytes: files.reduce((s, f) => s + f.size, 0) };
}

export function splitPath(path: string): { volume: string; rel: string } {
  const i = path.indexOf('/');
  return i < 0 ? { volume: path, rel: '' } : { volume: path.slice(0, i), rel: path.slice(i + 1) };
}

/** Parse the manifest a verifier pod printed (the last line that is a JSON object). */
export function parseManifestOutput(log: string): Manifest {
  const lines = log.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{'));
  const last = lines[lines.length - 1];
  if (!last) throw new Error(`the verifier printed no manifest: ${log.trim().slice(-300) || '(empty log)'}`);
  const m = JSON.parse(last) as Partial<Manifest>;
  if (!Array.isArray(m.files)) throw new Error(`the verifier printed something that is not a manifest: ${last.slice(0, 200)}`);
  const files = m.files.map((f) => ({ path: String(f.path), size: Number(f.size), sha256: String(f.sha256) }));
  return { files, bytes: typeof m.bytes === 'number' ? m.bytes : files.reduce((s, f) => s + f.size, 0) };
}

/** Parse the "PVBENCH-RESULT <json>" line of pvbench's inline pod scripts. */
export function parseResultLine<T>(log: string, prefix: string): T {
  const line = log
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(prefix));
  if (!line) throw new Error(`the pod printed no result: ${log.trim().slice(-300) || '(empty log)'}`);
  return JSON.parse(line.slice(prefix.length)) as T;
}

export interface Diff {
  matched: string[];
  mismatched: string[];
  missing: string[];
  extra: string[];
}

export function diffManifests(expected: Manifest, actual: Manifest): Diff {
  const present = new Map(actual.files.map((f) => [f.path, f]));
  const diff: Diff = { matched: [], mismatched: [], missing: [], extra: [] };
  for (const want of expected.files) {
    const got = present.get(want.path);
    if (!got) {
      diff.missing.push(want.path);
      continue;
    }
    present.delete(want.path);
    (got.size === want.size && got.sha256 === want.sha256 ? diff.matched : diff.mismatched).push(want.path);
  }
  diff.extra = [...present.keys()];
  return diff;
}

/** Move mismatched files that passed the prefix check to matched. */
export function acceptPrefixes(diff: Diff, prefixOk: Set<string>): Diff {
  return {
    ...diff,
    matched: [...diff.matched, ...diff.mismatched.filter((p) => prefixOk.has(p))],
    mismatched: diff.mismatched.filter((p) => !prefixOk.has(p)),
  };
}

export function integrityResult(expected: Manifest, actual: Manifest, diff: Diff): IntegrityResult {
  return {
    files: expected.files.length,
    matched: diff.matched.length,
    mismatched: diff.mismatched.length,
    missing: diff.missing.length,
    extra: diff.extra.length,
    bytes: actual.bytes,
    ok: diff.mismatched.length === 0 && diff.missing.length === 0,
    examples: {
      mismatched: diff.mismatched.slice(0, MAX_EXAMPLES),
      missing: diff.missing.slice(0, MAX_EXAMPLES),
      extra: diff.extra.slice(0, MAX_EXAMPLES),
    },
  };
}
