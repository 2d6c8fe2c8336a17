// Bundles the entries into dist/ with esbuild. `node scripts/build.ts [--outdir DIR]`.
// test/dist.test.ts rebuilds into a temporary directory and fails when dist/ differs from src/.
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const ENTRIES: Record<string, string> = {
  'cli/index': 'src/cli/index.ts',
  'action/index': 'src/action/index.ts',
  'action/post': 'src/action/post.ts',
};

export async function bundle(outdir: string): Promise<void> {
  await rm(outdir, { recursive: true, force: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([out, src]) => [out, join(ROOT, src)])),
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    splitting: false,
    minify: false,
    sourcemap: false,
    legalComments: 'eof',
    logLevel: 'warning',
    // Bundled CommonJS dependencies call require() for Node built-ins.
    banner: { js: "import { createRequire as __pvbenchCreateRequire } from 'node:module';\nconst require = __pvbenchCreateRequire(import.meta.url);" },
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--outdir');
  const outdir = i > 0 && process.argv[i + 1] ? resolve(process.argv[i + 1]!) : join(ROOT, 'dist');
  await bundle(outdir);
  process.stdout.write(`built ${Object.keys(ENTRIES).length} entries into ${outdir}\n`);
}
