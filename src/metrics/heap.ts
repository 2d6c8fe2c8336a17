// The size of pvbench's own young generation.
//
// pvbench walks trees a file at a time (manifests, comparisons, generation), a steady stream of small objects of
// which a few are still in flight at each scavenge. V8 grows its young generation whenever enough has survived
// since it last grew, up to a maximum set by the machine's memory (two 64 MiB semi-spaces on a 24 GiB machine):
// over a trial of 100k files that alone added about 120 MiB to the process's peak, growing with the file count.
// What pvbench keeps alive per file is small and short-lived, so the young generation is held at its starting
// size. The factor is read by V8 each time it considers growing the space, so setting it at start-up takes effect.
import { setFlagsFromString } from 'node:v8';

export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
