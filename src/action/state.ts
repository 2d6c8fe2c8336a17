// What the main step tells the post step (core.saveState → GITHUB_STATE → STATE_<name>): everything it created,
// saved as soon as it exists, so the post step can clean up after a cancelled or killed run.
import * as core from '@actions/core';

export const STATE = {
  /** Value of PVBENCH_ACTION_RUN in the environment of every process the run starts. */
  runMarker: 'pvbench-run-marker',
  /** JSON array of process ids to stop (the main step's own, while it may still be running). */
  pids: 'pvbench-pids',
  /** The main step's script path, to recognise its pid in /proc (a pid alone may have been reused). */
  mainScript: 'pvbench-main-script',
  /** JSON array of directories the action created itself (temporary files, the kubeconfig). */
  tempDirs: 'pvbench-temp-dirs',
  /** JSON array of directories the platform created (work directories with volumes and repositories). */
  platformDirs: 'pvbench-platform-dirs',
  /** JSON array of kind cluster names the platform created. */
  kindClusters: 'pvbench-kind-clusters',
  /** "true" once the pipeline returned: the platform has done its own cleanup. */
  finished: 'pvbench-finished',
  /** "true" when the suite asks to keep the platform's work (platform.keep / cluster.keep). */
  keep: 'pvbench-keep',
} as const;

export const RUN_MARKER_ENV = 'PVBENCH_ACTION_RUN';

export interface CleanupState {
  runMarker?: string;
  mainScript?: string;
  pids: number[];
  tempDirs: string[];
  platformDirs: string[];
  kindClusters: string[];
  finished: boolean;
  keep: boolean;
}

/** Records state for the post step; every change is saved at once (the last value saved wins). */
export class StateRecorder {
  private readonly lists = { pids: [] as number[], tempDirs: [] as string[], platformDirs: [] as string[], kindClusters: [] as string[] };

  setRunMarker(marker: string): void {
    core.saveState(STATE.runMarker, marker);
  }

  setMainScript(path: string): void {
    core.saveState(STATE.mainScript, path);
  }

  add(list: 'pids', value: number): void;
  add(list: 'tempDirs' | 'platformDirs' | 'kindClusters', value: string): void;
  add(list: keyof StateRecorder['lists'], value: string | number): void {
    const arr = this.lists[list] as (string | number)[];
    if (arr.includes(value)) return;
    arr.push(value);
    core.saveState(STATE[list], JSON.stringify(arr));
  }

  flag(name: 'finished' | 'keep', value: boolean): void {
    core.saveState(STATE[name], value ? 'true' : 'false');
  }
}

function list<T>(raw: string, guard: (v: unknown) => v is T): T[] {
  if (!raw) return [];
  try {
    const v: unknown = JSON.parse(raw);
    return Array.isArray(v) ? v.filter(guard) : [];
  } catch {
    return [];
  }
}

const isString = (v: unknown): v is string => typeof v === 'string' && v !== '';
const isPid = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 1;

/** The state as the post step sees it (core.getState reads STATE_<name>). */
export function readCleanupState(get: (name: string) => string = core.getState): CleanupState {
  return {
    runMarker: get(STATE.runMarker) || undefined,
    mainScript: get(STATE.mainScript) || undefined,
    pids: list(get(STATE.pids), isPid),
    tempDirs: list(get(STATE.tempDirs), isString),
    platformDirs: list(get(STATE.platformDirs), isString),
    kindClusters: list(get(STATE.kindClusters), isString),
    finished: get(STATE.finished) === 'true',
    keep: get(STATE.keep) === 'true',
  };
}
