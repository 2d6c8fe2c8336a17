// Named workloads that mirror the cases of Velero's file-system-backup performance guide
// (https://velero.io/docs/main/performance-guidance/): many 1 MB files, millions of 100-byte files, millions of
// empty files. A preset is a mesh-proxy workload of a given shape: its stats snapshots are the guide's files (each
// exactly the preset's size), two more files per proxy are its config dump and access log (small). At full size for
// users; `scale` (or a `-ci` name) shrinks the number of files for CI. Expanded in the suite file as it is loaded
// (src/config/load.ts), so every later step sees an ordinary workload; the preset and scale stay in the results.

/** The full-size cases. */
const BASE = {
  'velero-fsb-1mb': { files: 10_625, fileBytes: 1_000_000, proxies: 125, ciScale: 0.01, what: '10,625 files of 1 MB' },
  'velero-fsb-100b': { files: 2_000_000, fileBytes: 100, proxies: 500, ciScale: 0.005, what: '2,000,000 files of 100 bytes' },
  'velero-fsb-empty': { files: 2_000_000, fileBytes: 0, proxies: 500, ciScale: 0.005, what: '2,000,000 empty files' },
} as const;

type BaseName = keyof typeof BASE;
export const WORKLOAD_PRESET_NAMES = [...(Object.keys(BASE) as BaseName[]), ...(Object.keys(BASE) as BaseName[]).map((n) => `${n}-ci` as const)] as const;
export type WorkloadPresetName = (typeof WORKLOAD_PRESET_NAMES)[number];

/** The workload keys a preset sets (a suite may not set them too, unless to the same value). */
export const PRESET_KEYS = ['proxies', 'statsSnapshots', 'statsBytes', 'accessLogLines', 'clusters'] as const;
export type PresetShape = Record<(typeof PRESET_KEYS)[number], number>;

/** Bytes of one access log line, about. */
const LOG_LINE_BYTES = 265;

export interface PresetInfo {
  base: BaseName;
  /** The scale a `-ci` name stands for; undefined for the full-size names. */
  ciScale?: number;
  files: number;
  fileBytes: number;
  what: string;
}

export function presetInfo(name: WorkloadPresetName): PresetInfo {
  const ci = name.endsWith('-ci');
  const base = (ci ? name.slice(0, -3) : name) as BaseName;
  const b = BASE[base];
  return { base, ciScale: ci ? b.ciScale : undefined, files: b.files, fileBytes: b.fileBytes, what: b.what };
}

/**
 * The workload shape of a preset at a scale (0 < scale ≤ 1; a `-ci` name has its own): proxies scale with the files
 * (one at least), each proxy holds files/proxies files, two of them its config dump and access log.
 */
export function presetShape(name: WorkloadPresetName, scale?: number): PresetShape {
  const info = presetInfo(name);
  const b = BASE[info.base];
  const s = info.ciScale ?? scale ?? 1;
  const files = Math.max(1, Math.round(b.files * s));
  const proxies = Math.min(b.proxies, Math.max(1, Math.floor(b.proxies * s)));
  const perProxy = Math.max(2, Math.round(files / proxies));
  return {
    proxies,
    statsSnapshots: perProxy - 2,
    statsBytes: b.fileBytes,
    accessLogLines: b.fileBytes === 0 ? 0 : Math.max(1, Math.round(b.fileBytes / LOG_LINE_BYTES)),
    clusters: b.fileBytes >= 100_000 ? 40 : 1,
  };
}

export interface PresetProblem {
  path: (string | number)[];
  message: string;
  fix: string;
}

/**
 * A suite's raw data (as parsed from YAML, before validation) with its workload preset expanded into the keys it
 * sets; problems for keys that contradict the preset, and for a scale without a preset or beside a `-ci` name. An
 * unknown preset name is left for the schema to refuse (it lists the names).
 */
export function expandWorkloadPreset(data: unknown): { data: unknown; problems: PresetProblem[] } {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { data, problems: [] };
  const suite = data as Record<string, unknown>;
  const w = suite.workload;
  if (typeof w !== 'object' || w === null || Array.isArray(w)) return { data, problems: [] };
  const workload = w as Record<string, unknown>;
  const problems: PresetProblem[] = [];
  const name = workload.preset;
  const scale = workload.scale;
  if (name === undefined) {
    if (scale !== undefined) problems.push({ path: ['workload', 'scale'], message: 'scale shrinks a preset, and this workload has none', fix: `add workload.preset (one of ${WORKLOAD_PRESET_NAMES.join(', ')}), or remove scale` });
    return { data, problems };
  }
  if (typeof name !== 'string' || !(WORKLOAD_PRESET_NAMES as readonly string[]).includes(name)) return { data, problems };
  const preset = name as WorkloadPresetName;
  const info = presetInfo(preset);
  if (info.ciScale !== undefined && scale !== undefined) {
    problems.push({ path: ['workload', 'scale'], message: `${preset} is ${info.base} at scale ${info.ciScale} already`, fix: `remove scale, or use preset: ${info.base} with scale: ${String(scale)}` });
    return { data, problems };
  }
  // Out of range or not a number: the schema says so; the shape is taken at full size meanwhile.
  const usable = typeof scale === 'number' && scale > 0 && scale <= 1 ? scale : undefined;
  const shape = presetShape(preset, usable);
  for (const key of PRESET_KEYS) {
    if (workload[key] !== undefined && workload[key] !== shape[key]) {
      problems.push({
        path: ['workload', key],
        message: `preset ${preset} sets ${key} (to ${shape[key]}), and this suite sets it to ${JSON.stringify(workload[key])}`,
        fix: `remove workload.${key} (use scale to make the preset smaller), or remove workload.preset and give the whole shape yourself`,
      });
    }
  }
  return { data: { ...suite, workload: { ...workload, ...shape } }, problems };
}
