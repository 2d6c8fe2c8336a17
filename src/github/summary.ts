// The job summary (GITHUB_STEP_SUMMARY): the same report as the PR comment, plus any notice about it.
import * as core from '@actions/core';
import { maskText } from './mask.ts';

/** GitHub shows at most 1 MiB of summary per step. */
export const MAX_SUMMARY_BYTES = 1024 * 1024;

/** Notices as a Markdown block placed above the report. */
export function noticeBlock(notices: string[]): string {
  if (notices.length === 0) return '';
  return notices.map((n) => `> [!NOTE]\n> ${n.replace(/\r?\n/g, '\n> ')}`).join('\n\n') + '\n\n';
}

/**
 * Append the report to the step's summary. Returns false (and says why in the log) where the runner gives no
 * summary file, e.g. when run outside GitHub Actions.
 */
export async function writeSummary(report: string, notices: string[] = [], env: Record<string, string | undefined> = process.env): Promise<boolean> {
  if (!env.GITHUB_STEP_SUMMARY) {
    core.info('job summary skipped: GITHUB_STEP_SUMMARY is not set (not running on a GitHub Actions runner)');
    return false;
  }
  let text = maskText(noticeBlock(notices) + report);
  if (Buffer.byteLength(text) > MAX_SUMMARY_BYTES - 1024) {
    text = Buffer.from(text).subarray(0, MAX_SUMMARY_BYTES - 2048).toString('utf8') + '\n\n… (summary truncated at 1 MiB; the full report is in the results artifact)\n';
  }
  await core.summary.addRaw(text, true).write();
  core.summary.emptyBuffer();
  return true;
}
