#!/usr/bin/env node
// Entry of the `pvbench` command (bundled to dist/cli/index.js).
import { cli } from './main.ts';

process.exitCode = await cli(process.argv.slice(2));
