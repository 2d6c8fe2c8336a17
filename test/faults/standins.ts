// Stand-ins for the faultfs binary and for fusermount (shell scripts), for the tests that run src/faults/faultfs.ts
// without FUSE (faultfs-standin.test.ts, faultfs-spawn.test.ts). What each does is steered by FFS_* variables of the
// environment the test gives them (listed in FFS_VARS); both log to $FFS_LOG, a line each. useStandIns() sets a test
// file up with them.
import { after, before, beforeEach } from 'node:test';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FFS_VARS = ['FFS_LOG', 'FFS_OUT', 'FFS_LATER', 'FFS_ERR', 'FFS_EXIT', 'FFS_HANG', 'FFS_FINAL', 'FFS_FM_COUNT', 'FFS_FM_FAILS', 'FFS_FM_LAZY_FAIL', 'FFS_FM_LINGER', 'FFS_LEAVE', 'FFS_STAY'];

// The stand-in faultfs. Logs "args ..." and every line told on stdin ("told ..."); prints $FFS_OUT (as is: the test
// gives the newlines), $FFS_ERR on stderr, $FFS_LATER 0.1 s later. Then: exits with $FFS_EXIT; or hangs ($FFS_HANG);
// or leaves at once, mounted or not ($FFS_LEAVE); or stays mounted until DIR.unmounted exists, prints $FFS_FINAL
// (its account) and exits, as faultfs does once unmounted (or, with $FFS_STAY, does not).
const STAND_IN = `#!/bin/bash
log() { if [[ -n $FFS_LOG ]]; then printf '%s\\n' "$*" >> "$FFS_LOG"; fi; }
log "args $*"
printf '%s' "$FFS_OUT"
if [[ -n $FFS_ERR ]]; then printf '%s' "$FFS_ERR" >&2; fi
if [[ -n $FFS_LATER ]]; then sleep 0.1; printf '%s' "$FFS_LATER"; fi
if [[ -n $FFS_EXIT ]]; then exit "$FFS_EXIT"; fi
if [[ -n $FFS_HANG ]]; then exec sleep 30; fi
if [[ -n $FFS_LEAVE ]]; then exit 0; fi
pending=''
while [[ ! -e $2.unmounted ]]; do
  # A read that times out mid-line (the machine busy between two bytes) keeps what it read: the rest comes next.
  if read -r -t 0.02 part; then log "told $pending$part"; pending=''; elif (( $? > 128 )); then pending+=$part; else sleep 0.02; fi
done
printf '%s' "$FFS_FINAL"
if [[ -n $FFS_STAY ]]; then log "stays"; exec sleep 30; fi
log "exit"
`;

// The stand-in fusermount. Logs "fusermount ARGS". With $FFS_FM_LINGER it first leaves a process behind that holds
// its stdout for that many seconds, as a helper fusermount started could (logged "lingers PID, stdout WHERE": where
// its stdout goes, e.g. /dev/null or pipe:[…]). "-u DIR" fails
// (exit 1) for the first $FFS_FM_FAILS calls (all of them with "always"), then unmounts; "-u -z DIR" detaches, unless
// DIR is $FFS_FM_LAZY_FAIL. Unmounting DIR creates DIR.unmounted, which tells the stand-in mounted there to finish.
const FUSERMOUNT = `#!/bin/bash
if [[ -n $FFS_LOG ]]; then printf 'fusermount %s\\n' "$*" >> "$FFS_LOG"; fi
if [[ -n $FFS_FM_LINGER ]]; then sleep "$FFS_FM_LINGER" & printf 'lingers %s, stdout %s\\n' "$!" "$(readlink /proc/$$/fd/1)" >> "$FFS_LOG"; fi
dir=\${@: -1}
if [[ $1 == -u && $2 == -z ]]; then
  if [[ $dir == "$FFS_FM_LAZY_FAIL" ]]; then exit 1; fi
  touch "$dir.unmounted" 2>/dev/null
  exit 0
fi
n=$(cat "$FFS_FM_COUNT" 2>/dev/null || echo 0)
echo $((n + 1)) > "$FFS_FM_COUNT"
if [[ $FFS_FM_FAILS == always ]] || (( n < \${FFS_FM_FAILS:-0} )); then echo "fusermount: failed to unmount $dir: Device or resource busy" >&2; exit 1; fi
touch "$dir.unmounted"
`;

/** Writes both stand-ins under `dir`: the faultfs one (`standIn`, for $PVBENCH_FAULTFS) and `bin`/fusermount (for $PATH). */
function writeStandIns(dir: string): { standIn: string; bin: string } {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const standIn = join(dir, 'faultfs-standin');
  writeFileSync(standIn, STAND_IN);
  chmodSync(standIn, 0o755);
  writeFileSync(join(bin, 'fusermount'), FUSERMOUNT);
  chmodSync(join(bin, 'fusermount'), 0o755);
  return { standIn, bin };
}

export interface StandIns {
  /** The stand-in faultfs, in $PVBENCH_FAULTFS during each test. */
  standIn: string;
  /** The folder of the stand-in fusermount. */
  bin: string;
  /** $PATH with `bin` first, as each test starts with it. */
  path: string;
  /** A fresh folder per test: the stand-ins' log, the stand-in fusermount's call count, the mount points. */
  run: string;
  /** What the stand-ins logged in this test, a line each. */
  logged(): string[];
}

/**
 * Registers the file's hooks: the stand-ins written once (before), and per test a fresh `run` folder and an environment
 * of the FFS_* variables unset but the log and count files, $PVBENCH_FAULTFS the stand-in and `bin` first on $PATH;
 * after, the environment is restored and everything removed. The fields are set once the hooks have run.
 */
export function useStandIns(): StandIns {
  const saved = { ...process.env };
  let tmp = '';
  let runs = 0;
  const h: StandIns = {
    standIn: '',
    bin: '',
    path: '',
    run: '',
    logged: () => (existsSync(join(h.run, 'log')) ? readFileSync(join(h.run, 'log'), 'utf8').trim().split('\n') : []),
  };
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'pvbench-standin-'));
    Object.assign(h, writeStandIns(tmp));
    h.path = `${h.bin}:${saved.PATH ?? ''}`;
  });
  after(() => {
    for (const k of [...FFS_VARS, 'PVBENCH_FAULTFS', 'PATH']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    rmSync(tmp, { recursive: true, force: true });
  });
  beforeEach(() => {
    h.run = join(tmp, `run-${++runs}`);
    mkdirSync(h.run);
    for (const k of FFS_VARS) delete process.env[k];
    process.env.PVBENCH_FAULTFS = h.standIn;
    process.env.PATH = h.path;
    process.env.FFS_LOG = join(h.run, 'log');
    process.env.FFS_FM_COUNT = join(h.run, 'fusermount-count');
  });
  return h;
}
