// The environment of a local tool's processes (issue 8): this process's environment (PATH, HOME, TMPDIR, LANG and
// the like) without any of the tool's own variables, then only those pvbench sets. A user's RESTIC_PASSWORD_FILE,
// RESTIC_REPOSITORY_FILE, RESTIC_CACHE_DIR, RESTIC_COMPRESSION, KOPIA_CONFIG_PATH ... would otherwise change what
// is measured, or make the tool refuse to start (restic will not take a password file and a password command).

export interface ToolEnv {
  env: NodeJS.ProcessEnv;
  /** Names (never values) of the variables with the tool's prefix that were in `base` and are not passed on, sorted. */
  ignored: string[];
}

/** `base` less every variable whose name starts with `prefix`, plus `own` (which should use that prefix). */
export function toolEnv(prefix: string, own: Record<string, string>, base: NodeJS.ProcessEnv = process.env): ToolEnv {
  const env: NodeJS.ProcessEnv = {};
  const ignored: string[] = [];
  for (const [name, value] of Object.entries(base)) {
    if (value === undefined) continue;
    if (name.startsWith(prefix)) ignored.push(name);
    else env[name] = value;
  }
  return { env: { ...env, ...own }, ignored: ignored.sort() };
}

/** The one log line saying which user variables a tool ignores, or nothing when there are none. */
export function ignoredNote(tool: string, ignored: string[]): string[] {
  return ignored.length === 0 ? [] : [`ignoring ${ignored.join(', ')} from the environment: pvbench sets ${tool}'s environment itself`];
}
