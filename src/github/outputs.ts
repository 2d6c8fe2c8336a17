// The action's outputs, set in one place with their documented names (see action.yml).
import * as core from '@actions/core';
import { maskText } from './mask.ts';

export interface ActionOutputs {
  verdict: 'pass' | 'fail';
  resultsPath: string;
  reportPath: string;
  regressions: number;
  integrityFailures: number;
  /** Empty when no comment was posted. */
  commentUrl: string;
}

export const OUTPUT_NAMES = {
  verdict: 'verdict',
  resultsPath: 'results-path',
  reportPath: 'report-path',
  regressions: 'regressions',
  integrityFailures: 'integrity-failures',
  commentUrl: 'comment-url',
} as const satisfies Record<keyof ActionOutputs, string>;

export function setOutputs(o: ActionOutputs): void {
  for (const key of Object.keys(OUTPUT_NAMES) as (keyof ActionOutputs)[]) {
    core.setOutput(OUTPUT_NAMES[key], maskText(String(o[key])));
  }
}
