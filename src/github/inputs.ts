// The action's inputs, read once, validated and typed. Every error names the input, what was wrong and the fix.
import * as core from '@actions/core';
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { addSecret } from './mask.ts';

export class InputError extends Error {
  readonly input: string;
  constructor(input: string, problem: string, fix: string) {
    super(`Input "${input}": ${problem}. Fix: ${fix}`);
    this.name = 'InputError';
    this.input = input;
  }
}

export type BaselineSource = { kind: 'artifact' } | { kind: 'file'; path: string } | { kind: 'history' } | { kind: 'none' };

export interface ActionInputs {
  /** Absolute path of the suite file; undefined → the embedded default suite. */
  suite?: string;
  platform?: 'local' | 'kubernetes';
  baseline: BaselineSource;
  baselineArtifact: string;
  githubToken: string;
  comment: boolean;
  failOnRegression?: boolean;
  threshold?: number;
  trials?: number;
  /** Absolute path of a Handlebars template overriding the report's. */
  template?: string;
  outputDir?: string;
  uploadArtifact: boolean;
  /** Kubeconfig content (masked). */
  kubeconfig?: string;
  /** Absolute working directory the run happens in. */
  workingDirectory: string;
}

/** Reads one raw input; core.getInput by default (INPUT_<NAME> from the runner). */
export type InputReader = (name: string) => string;

const defaultReader: InputReader = (name) => core.getInput(name);

const TRUE = ['true', 'True', 'TRUE'];
const FALSE = ['false', 'False', 'FALSE'];

function bool(name: string, raw: string, fallback: boolean | undefined): boolean | undefined {
  if (raw === '') return fallback;
  if (TRUE.includes(raw)) return true;
  if (FALSE.includes(raw)) return false;
  throw new InputError(name, `${JSON.stringify(raw)} is not a boolean`, `set "${name}: true" or "${name}: false" (YAML 1.2 core schema: true | True | TRUE | false | False | FALSE)`);
}

function number(name: string, raw: string, opts: { min: number; max: number; integer?: boolean; percent?: boolean; example: string }): number | undefined {
  if (raw === '') return undefined;
  let text = raw;
  let scale = 1;
  if (opts.percent && text.endsWith('%')) {
    text = text.slice(0, -1).trim();
    scale = 0.01;
  }
  const n = Number(text) * scale;
  if (text === '' || !Number.isFinite(n)) throw new InputError(name, `${JSON.stringify(raw)} is not a number`, `set e.g. "${name}: ${opts.example}"`);
  if (opts.integer && !Number.isInteger(n)) throw new InputError(name, `${JSON.stringify(raw)} is not a whole number`, `set e.g. "${name}: ${opts.example}"`);
  if (n < opts.min || n > opts.max) throw new InputError(name, `${raw} is out of range`, `use a value from ${opts.min} to ${opts.max}, e.g. "${name}: ${opts.example}"`);
  return n;
}

function existingFile(name: string, raw: string, cwd: string, what: string, fix: string): string | undefined {
  if (raw === '') return undefined;
  const path = isAbsolute(raw) ? raw : resolve(cwd, raw);
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new InputError(name, `${what} ${JSON.stringify(raw)} does not exist (looked for ${path})`, fix);
  }
  if (!isFile) throw new InputError(name, `${JSON.stringify(raw)} is not a file (${path})`, fix);
  return path;
}

export function parseBaseline(raw: string, cwd: string): BaselineSource {
  const v = raw.trim();
  if (v === '' || v === 'artifact') return { kind: 'artifact' };
  if (v === 'history') return { kind: 'history' };
  if (v === 'none') return { kind: 'none' };
  if (v.startsWith('file:')) {
    const p = v.slice('file:'.length).trim();
    if (!p) throw new InputError('baseline', '"file:" needs a path', 'set e.g. "baseline: file:baseline/results.json"');
    return { kind: 'file', path: isAbsolute(p) ? p : resolve(cwd, p) };
  }
  throw new InputError('baseline', `${JSON.stringify(raw)} is not a baseline source`, 'use one of "artifact" (results of the latest successful run on the base branch), "file:<path>", "history" or "none"');
}

/**
 * Reads and validates every input. Relative paths resolve against the working-directory input (itself relative
 * to GITHUB_WORKSPACE or the current directory). Secrets are masked as soon as they are read.
 */
export function readInputs(read: InputReader = defaultReader, env: Record<string, string | undefined> = process.env): ActionInputs {
  const get = (name: string) => read(name).trim();

  // Secrets first, so an error message below can never echo one unmasked.
  const githubToken = read('github-token').trim();
  addSecret(githubToken);
  const kubeconfigRaw = read('kubeconfig');
  addSecret(kubeconfigRaw);

  const base = env.GITHUB_WORKSPACE || process.cwd();
  const wdRaw = get('working-directory');
  const workingDirectory = wdRaw ? (isAbsolute(wdRaw) ? wdRaw : resolve(base, wdRaw)) : resolve(base);
  if (!existsSync(workingDirectory) || !statSync(workingDirectory).isDirectory()) {
    throw new InputError('working-directory', `${JSON.stringify(wdRaw || workingDirectory)} is not a directory (${workingDirectory})`, 'set it to a directory of the checked-out repository, relative to GITHUB_WORKSPACE, or leave it empty');
  }

  const platformRaw = get('platform');
  if (platformRaw !== '' && platformRaw !== 'local' && platformRaw !== 'kubernetes') {
    throw new InputError('platform', `${JSON.stringify(platformRaw)} is not a platform`, 'use "local" or "kubernetes", or leave it empty to use the suite file\'s platform');
  }

  const baselineArtifact = get('baseline-artifact') || 'pvbench-results';
  if (/[":<>|*?\\/\r\n]/.test(baselineArtifact)) {
    throw new InputError('baseline-artifact', `${JSON.stringify(baselineArtifact)} contains a character artifact names cannot hold`, 'use letters, digits, dashes, dots and underscores, e.g. "pvbench-results"');
  }

  const outputDirRaw = get('output-dir');
  const kubeconfig = kubeconfigRaw.trim() === '' ? undefined : kubeconfigRaw;

  const inputs: ActionInputs = {
    suite: existingFile('suite', get('suite'), workingDirectory, 'the suite file', 'pass the path of a suite YAML file relative to working-directory, or leave it empty for the embedded default suite'),
    platform: platformRaw === '' ? undefined : (platformRaw as 'local' | 'kubernetes'),
    baseline: parseBaseline(get('baseline'), workingDirectory),
    baselineArtifact,
    githubToken,
    comment: bool('comment', get('comment'), true) ?? true,
    failOnRegression: bool('fail-on-regression', get('fail-on-regression'), undefined),
    threshold: number('threshold', get('threshold'), { min: 0, max: 10, percent: true, example: '0.1 (or 10%)' }),
    trials: number('trials', get('trials'), { min: 1, max: 100, integer: true, example: '5' }),
    template: existingFile('template', get('template'), workingDirectory, 'the template', 'pass the path of a Handlebars template relative to working-directory, or leave it empty for the built-in report'),
    outputDir: outputDirRaw === '' ? undefined : isAbsolute(outputDirRaw) ? outputDirRaw : resolve(workingDirectory, outputDirRaw),
    uploadArtifact: bool('upload-artifact', get('upload-artifact'), true) ?? true,
    kubeconfig,
    workingDirectory,
  };
  return inputs;
}
