// Entry of the main step (bundled to dist/action/index.js).
import * as core from '@actions/core';
import { maskText } from '../github/mask.ts';
import { run } from './main.ts';
import { keepYoungGenerationSmall } from '../metrics/heap.ts';

keepYoungGenerationSmall();

run().catch((err: unknown) => {
  core.setFailed(maskText(`pvbench: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`));
});
