// A runner of JavaScript actions for tests, doing what the GitHub Actions runner does for a `uses:` step:
// reads action.yml, applies input defaults (evaluating `${{ github.token }}`), runs `runs.main` with Node 24 in
// the environment a runner gives (INPUT_*, GITHUB_* file commands, event payload, RUNNER_TEMP …), processes the
// workflow commands on stdout (::error, ::warning, ::notice, ::add-mask::, groups) and the file commands
// (GITHUB_OUTPUT, GITHUB_STATE, GITHUB_ENV, GITHUB_STEP_SUMMARY), then runs `runs.post` per `post-if` with the
// saved state as STATE_<name>.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';

export interface ActionDefinition {
  name: string;
  inputs: Record<string, { description?: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description?: string }>;
  runs: { using: string; main: string; post?: string; 'post-if'?: string; pre?: string };
}

export interface Annotation {
  level: 'error' | 'warning' | 'notice' | 'debug';
  message: string;
  properties: Record<string, string>;
}

export interface StepResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Raw stdout / stderr of the process. */
  stdout: string;
  stderr: string;
  /** What the job log would show: stdout and stderr with every ::add-mask:: value replaced by ***. */
  log: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  env: Record<string, string>;
  summary: string;
  annotations: Annotation[];
  masks: string[];
  groups: string[];
  /** The step's failure per the runner: a non-zero exit code. */
  failed: boolean;
}

export interface CancelPlan {
  /** Checked against the main step's saved state while it runs (polled). */
  when: (state: Record<string, string>) => boolean;
  signal: NodeJS.Signals;
  /** Give up waiting for the condition after this long (then the step runs to its end). */
  waitMs?: number;
}

export interface RunActionOptions {
  /** Directory holding action.yml. */
  actionDir: string;
  inputs?: Record<string, string>;
  /** The value of ${{ github.token }}. */
  token: string;
  apiUrl: string;
  repository: string;
  event: { name: string; payload: Record<string, unknown> };
  sha?: string;
  ref?: string;
  runId?: number;
  runNumber?: number;
  /** "owner/repo/.github/workflows/bench.yml@refs/heads/main". */
  workflowRef?: string;
  workspace: string;
  /** Extra environment (e.g. test knobs). */
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Where the runner's per-job files go; a fresh temporary directory by default. */
  tempDir?: string;
  cancel?: CancelPlan;
}

export interface ActionRun {
  definition: ActionDefinition;
  main: StepResult;
  post?: StepResult;
  tempDir: string;
}

export async function readActionDefinition(actionDir: string): Promise<ActionDefinition> {
  const text = await readFile(join(actionDir, 'action.yml'), 'utf8');
  const def = parse(text) as ActionDefinition;
  if (!def?.runs?.main) throw new Error('action.yml: runs.main is missing');
  return { ...def, inputs: def.inputs ?? {}, outputs: def.outputs ?? {} };
}

/** Evaluates the expressions a runner evaluates in input defaults; only ${{ github.* }} values are supported here. */
function evaluateDefault(value: string, github: Record<string, string>): string {
  return value.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_m, expr: string) => {
    const mm = /^github\.([a-z_]+)$/.exec(expr);
    if (!mm || !(mm[1]! in github)) throw new Error(`runner: unsupported expression \${{ ${expr} }} in an input default`);
    return github[mm[1]!]!;
  });
}

function unescapeData(s: string): string {
  return s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

function unescapeProperty(s: string): string {
  return s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');
}

/** Parses a file-command file: `name=value` lines and `name<<DELIMITER` heredocs. The last value of a name wins. */
export function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delim] = heredoc;
      const value: string[] = [];
      let closed = false;
      for (i++; i < lines.length; i++) {
        if (lines[i] === delim) {
          closed = true;
          break;
        }
        value.push(lines[i]!);
      }
      if (!closed) throw new Error(`file command: heredoc for ${name} is not closed by ${delim}`);
      out[name!] = value.join('\n');
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`file command: cannot parse line ${JSON.stringify(line)}`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** Processes the workflow commands a step printed. */
export function parseWorkflowCommands(stdout: string): { annotations: Annotation[]; masks: string[]; groups: string[] } {
  const annotations: Annotation[] = [];
  const masks: string[] = [];
  const groups: string[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const m = /^::([a-z-]+)(?: ([^:]*))?::(.*)$/.exec(line);
    if (!m) continue;
    const [, cmd, rawProps, rawData] = m;
    const data = unescapeData(rawData ?? '');
    const properties: Record<string, string> = {};
    for (const kv of (rawProps ?? '').split(',')) {
      const eq = kv.indexOf('=');
      if (eq > 0) properties[kv.slice(0, eq).trim()] = unescapeProperty(kv.slice(eq + 1));
    }
    if (cmd === 'add-mask') {
      if (data) masks.push(data);
    } else if (cmd === 'error' || cmd === 'warning' || cmd === 'notice' || cmd === 'debug') {
      annotations.push({ level: cmd, message: data, properties });
    } else if (cmd === 'group') groups.push(data);
  }
  return { annotations, masks, groups };
}

function applyMasks(text: string, masks: string[]): string {
  let out = text;
  for (const m of [...masks].sort((a, b) => b.length - a.length)) {
    out = out.split(m).join('***');
    // The runner also masks each line of a multi-line secret.
    if (m.includes('\n')) for (const line of m.split(/\r?\n/)) if (line.trim().length >= 4) out = out.split(line).join('***');
  }
  return out;
}

const STRIPPED_PREFIXES = ['GITHUB_', 'INPUT_', 'STATE_', 'RUNNER_', 'ACTIONS_'];

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || STRIPPED_PREFIXES.some((p) => k.startsWith(p)) || k.startsWith('NODE_TEST') || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  // Node 24 first on PATH, as the runner's node24 externals are.
  env.PATH = `${dirname(process.execPath)}:${env.PATH ?? '/usr/bin:/bin'}`;
  return env;
}

interface StepFiles {
  dir: string;
  output: string;
  state: string;
  env: string;
  path: string;
  summary: string;
}

async function stepFiles(root: string, step: string): Promise<StepFiles> {
  const dir = join(root, '_runner_file_commands', step);
  await mkdir(dir, { recursive: true });
  const f = { dir, output: join(dir, 'output'), state: join(dir, 'state'), env: join(dir, 'env'), path: join(dir, 'path'), summary: join(dir, 'step_summary') };
  for (const p of [f.output, f.state, f.env, f.path, f.summary]) await writeFile(p, '');
  return f;
}

async function runStep(o: {
  script: string;
  env: Record<string, string>;
  cwd: string;
  files: StepFiles;
  timeoutMs: number;
  cancel?: CancelPlan;
}): Promise<StepResult> {
  const env = {
    ...o.env,
    GITHUB_OUTPUT: o.files.output,
    GITHUB_STATE: o.files.state,
    GITHUB_ENV: o.files.env,
    GITHUB_PATH: o.files.path,
    GITHUB_STEP_SUMMARY: o.files.summary,
  };
  const child = spawn(process.execPath, [o.script], { cwd: o.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, o.timeoutMs);
  let poll: NodeJS.Timeout | undefined;
  if (o.cancel) {
    const plan = o.cancel;
    const giveUp = Date.now() + (plan.waitMs ?? o.timeoutMs);
    poll = setInterval(() => {
      if (Date.now() > giveUp) return clearInterval(poll);
      readFile(o.files.state, 'utf8')
        .then((t) => {
          if (poll && plan.when(parseFileCommands(t))) {
            clearInterval(poll);
            poll = undefined;
            child.kill(plan.signal);
          }
        })
        .catch(() => undefined);
    }, 25);
  }
  const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res, rej) => {
    child.on('error', rej);
    child.on('close', (code, sig) => res([code, sig]));
  });
  clearTimeout(timer);
  if (poll) clearInterval(poll);
  const cmds = parseWorkflowCommands(stdout);
  return {
    exitCode,
    signal,
    timedOut,
    stdout,
    stderr,
    log: applyMasks(stdout + stderr, cmds.masks),
    outputs: parseFileCommands(await readFile(o.files.output, 'utf8')),
    state: parseFileCommands(await readFile(o.files.state, 'utf8')),
    env: parseFileCommands(await readFile(o.files.env, 'utf8')),
    summary: await readFile(o.files.summary, 'utf8'),
    annotations: cmds.annotations,
    masks: cmds.masks,
    groups: cmds.groups,
    failed: exitCode !== 0,
  };
}

function shouldRunPost(postIf: string | undefined, mainFailed: boolean): boolean {
  const cond = (postIf ?? 'success()').replace(/^\$\{\{\s*|\s*\}\}$/g, '').trim();
  if (cond === 'always()') return true;
  if (cond === 'success()') return !mainFailed;
  if (cond === 'failure()') return mainFailed;
  throw new Error(`runner: unsupported post-if ${JSON.stringify(postIf)}`);
}

/** Runs the action's main step and then its post step, as a runner would for one `uses:` step in a job. */
export async function runAction(o: RunActionOptions): Promise<ActionRun> {
  const def = await readActionDefinition(o.actionDir);
  if (def.runs.using !== 'node24') throw new Error(`runner: runs.using is ${JSON.stringify(def.runs.using)}, this runner runs node24 actions`);
  const major = Number(process.versions.node.split('.')[0]);
  if (major !== 24) throw new Error(`runner: node24 actions need Node 24, this is ${process.version}`);
  const tempDir = o.tempDir ?? (await mkdtemp(join(tmpdir(), 'pvbench-runner-')));
  const runnerTemp = join(tempDir, '_temp');
  await mkdir(runnerTemp, { recursive: true });
  const eventPath = join(tempDir, '_github_workflow', 'event.json');
  await mkdir(dirname(eventPath), { recursive: true });
  await writeFile(eventPath, JSON.stringify(o.event.payload, null, 2));

  const unknown = Object.keys(o.inputs ?? {}).filter((k) => !(k in def.inputs));
  if (unknown.length) throw new Error(`runner: unexpected input(s) ${unknown.join(', ')}; valid inputs are ${Object.keys(def.inputs).join(', ')}`);

  const [owner] = o.repository.split('/');
  const ref = o.ref ?? 'refs/heads/main';
  const serverUrl = 'https://github.com';
  const github: Record<string, string> = { token: o.token, repository: o.repository, sha: o.sha ?? '', ref, workspace: o.workspace, event_name: o.event.name, server_url: serverUrl, api_url: o.apiUrl };

  const env: Record<string, string> = {
    ...baseEnv(),
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: o.repository,
    GITHUB_REPOSITORY_OWNER: owner ?? '',
    GITHUB_SHA: o.sha ?? '0000000000000000000000000000000000000000',
    GITHUB_REF: ref,
    GITHUB_REF_NAME: ref.replace(/^refs\/(heads|tags)\//, ''),
    GITHUB_REF_TYPE: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    GITHUB_EVENT_NAME: o.event.name,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_RUN_ID: String(o.runId ?? 1),
    GITHUB_RUN_NUMBER: String(o.runNumber ?? 1),
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_WORKFLOW: 'bench',
    GITHUB_WORKFLOW_REF: o.workflowRef ?? `${o.repository}/.github/workflows/bench.yml@${ref}`,
    GITHUB_JOB: 'bench',
    GITHUB_ACTION: 'pvbench',
    GITHUB_ACTION_PATH: o.actionDir,
    GITHUB_ACTOR: 'octocat',
    GITHUB_WORKSPACE: o.workspace,
    GITHUB_API_URL: o.apiUrl,
    GITHUB_SERVER_URL: serverUrl,
    GITHUB_GRAPHQL_URL: `${o.apiUrl}/graphql`,
    RUNNER_TEMP: runnerTemp,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'pvbench-test-runner',
    RUNNER_TOOL_CACHE: join(tempDir, '_tool'),
    ...(o.env ?? {}),
  };
  const pr = (o.event.payload.pull_request ?? undefined) as { base?: { ref?: string }; head?: { ref?: string } } | undefined;
  if (pr) {
    env.GITHUB_BASE_REF = pr.base?.ref ?? '';
    env.GITHUB_HEAD_REF = pr.head?.ref ?? '';
  }
  for (const [name, spec] of Object.entries(def.inputs)) {
    const given = o.inputs?.[name];
    const value = given ?? (spec.default !== undefined ? evaluateDefault(String(spec.default), github) : '');
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  }

  const timeoutMs = o.timeoutMs ?? 300_000;
  const main = await runStep({ script: resolve(o.actionDir, def.runs.main), env, cwd: o.workspace, files: await stepFiles(tempDir, 'main'), timeoutMs, cancel: o.cancel });
  let post: StepResult | undefined;
  if (def.runs.post && shouldRunPost(def.runs['post-if'], main.failed)) {
    const postEnv: Record<string, string> = { ...env, ...main.env };
    for (const [k, v] of Object.entries(main.state)) postEnv[`STATE_${k}`] = v;
    post = await runStep({ script: resolve(o.actionDir, def.runs.post), env: postEnv, cwd: o.workspace, files: await stepFiles(tempDir, 'post'), timeoutMs });
  }
  return { definition: def, main, post, tempDir };
}
