// What the local platform gives each local tool: where repositories live and how long operations may take.
export interface LocalToolContext {
  /** The run's work directory; each tool keeps its repositories below <workdir>/repos/<tool name>/. */
  workdir: string;
  /** Upper bound of any one backup, restore or check. */
  timeoutMs: number;
  /** PVBENCH_TEST_SLOWDOWN: a factor > 1 that makes backups slower, for regression tests of the pipeline. */
  slowdown: number;
}

export function slowdownFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.PVBENCH_TEST_SLOWDOWN;
  if (!raw) return 1;
  const f = Number(raw);
  if (!Number.isFinite(f) || f < 1 || f > 100) {
    throw new Error(`PVBENCH_TEST_SLOWDOWN=${JSON.stringify(raw)} is not a factor between 1 and 100. Fix: unset it, or set e.g. PVBENCH_TEST_SLOWDOWN=2`);
  }
  return f;
}
