// Manifests on Kubernetes are taken per volume (one verifier pod each, on the volume's node) and merged here into
// the same shape as on the local platform: paths "<volume>/<path inside the volume>", sorted. Comparing them is
// metrics/manifest.ts's diffManifests / integrityFromDiff, as everywhere.
import type { ManifestEntry, ManifestList } from '../../metrics/types.ts';

function byPath(a: ManifestEntry, b: ManifestEntry): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

export function mergeVolumeManifests(parts: { volume: string; manifest: ManifestList }[]): ManifestList {
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
export function volumePart(manifest: ManifestList, volume: string): ManifestList {
  const prefix = `${volume}/`;
  const files = manifest.files.filter((f) => f.path.startsWith(prefix)).map((f) => ({ ...f, path: f.path.slice(prefix.length) }));
  return { files, bytes: files.reduce((s, f) => s + f.size, 0) };
}

export function splitPath(path: string): { volume: string; rel: string } {
  const i = path.indexOf('/');
  return i < 0 ? { volume: path, rel: '' } : { volume: path.slice(0, i), rel: path.slice(i + 1) };
}

/** Parse the manifest a verifier pod printed (the last line that is a JSON object). */
export function parseManifestOutput(log: string): ManifestList {
  const lines = log.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{'));
  const last = lines[lines.length - 1];
  if (!last) throw new Error(`the verifier printed no manifest: ${log.trim().slice(-300) || '(empty log)'}`);
  const m = JSON.parse(last) as Partial<ManifestList>;
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
