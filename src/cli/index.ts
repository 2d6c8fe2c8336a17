#!/usr/bin/env node
// Entry of the `pvbench` command (bundled to dist/cli/index.js).
import { cli } from './main.ts';
import { keepYoungGenerationSmall } from '../metrics/heap.ts';

keepYoungGenerationSmall();

process.exitCode = await cli(process.argv.slice(2));
