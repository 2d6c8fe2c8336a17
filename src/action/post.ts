// Entry of the post step (bundled to dist/action/post.js; action.yml runs it with post-if: always()). Removes
// what the main step created, also after a cancel. Never fails the job: problems are warnings.
import * as core from '@actions/core';
import { cleanup } from './cleanup.ts';
import { readCleanupState } from './state.ts';

export async function post(): Promise<void> {
  const state = readCleanupState();
  if (!state.runMarker && state.tempDirs.length === 0 && state.platformDirs.length === 0) {
    core.info('pvbench cleanup: nothing to do (the main step saved no state)');
    return;
  }
  const report = await cleanup(state, { log: (m) => core.info(`pvbench cleanup: ${m}`) });
  for (const p of report.problems) core.warning(`pvbench cleanup: ${p}`);
  core.info(`pvbench cleanup: done (${report.killed.length} process(es) stopped, ${report.removed.length} director(ies) removed${report.clusters.length ? `, ${report.clusters.length} kind cluster(s) deleted` : ''})`);
}

post().catch((err: unknown) => {
  core.warning(`pvbench cleanup: ${err instanceof Error ? err.message : String(err)}`);
});
