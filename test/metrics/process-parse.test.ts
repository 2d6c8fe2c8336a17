// The pure parts of src/metrics/process.ts, to the exact figure: the /proc parsers on the edges of the kernel's
// formats, and the clock-tick rate with getconf answering, failing, hanging or missing.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProcIo, parseProcStat, parseProcStatus, selfChildrenTicks } from '../../src/metrics/process.ts';

/** The 20 fields after the command name up to starttime: state ppid ... utime(11) stime cutime cstime ... starttime(19). */
const UP_TO_STARTTIME = ['S', 4242, 1, 1, 0, -1, 4194560, 100, 0, 0, 0, 250, 37, 12, 5, 20, 0, 3, 0, 987654];

/** What parseProcStat gives for UP_TO_STARTTIME after a command name `comm`. */
const PARSED = (comm: string) => ({ ppid: 4242, utime: 250, stime: 37, cutime: 12, cstime: 5, starttime: '987654', comm });

describe('parseProcStat', () => {
  test('a line that ends at starttime is complete; one field fewer is not, trailing newline or not', () => {
    assert.deepEqual(parseProcStat(`77 (sh) ${UP_TO_STARTTIME.join(' ')}\n`), PARSED('sh'));
    assert.equal(parseProcStat(`77 (sh) ${UP_TO_STARTTIME.slice(0, 19).join(' ')}\n`), undefined);
  });

  test('fields are counted from the last parenthesis: a command name may hold spaces and parentheses; the fields after starttime are passed by', () => {
    assert.deepEqual(parseProcStat(`1234 (we (ird) name) ${UP_TO_STARTTIME.join(' ')} 1000 200`), PARSED('we (ird) name'));
    assert.equal(parseProcStat('garbage'), undefined);
    assert.equal(parseProcStat('1 (x) S 0 1'), undefined);
  });

  test('fields may be separated by runs of whitespace', () => {
    assert.deepEqual(parseProcStat(`77 (sh)   ${UP_TO_STARTTIME.join(' \t ')}  \n`)?.starttime, '987654');
    assert.deepEqual(parseProcStat(`77 (sh)  ${UP_TO_STARTTIME.join('  ')}`)?.ppid, 4242);
  });

  test('a line without the parenthesised command name is not a stat line, however many fields it has', () => {
    assert.equal(parseProcStat(`77 sh ${UP_TO_STARTTIME.join(' ')} 1 2 3`), undefined);
  });
});

describe('parseProcStatus', () => {
  test('a command name that looks like a memory field does not count: fields start their line', () => {
    // The name is the process's own to set (15 characters): "VmRSS: 99999 kB" fits.
    const text = 'Name:\tVmRSS: 99999 kB\nUmask:\t0022\nVmHWM:\t     300 kB\nVmRSS:\t     200 kB\n';
    assert.deepEqual(parseProcStatus(text), { rssBytes: 200 * 1024, hwmBytes: 300 * 1024 });
  });
});

describe('parseProcIo', () => {
  test('reads the counters from their own lines, to the byte', () => {
    const text = 'rchar: 9007199254740991\nwchar: 4096\nsyscr: 77\nsyscw: 88\nread_bytes: 1\nwrite_bytes: 2\ncancelled_write_bytes: 3\n';
    assert.deepEqual(parseProcIo(text), { rchar: Number.MAX_SAFE_INTEGER, wchar: 4096 });
    assert.deepEqual(parseProcIo('syscr: 77\n'), { rchar: 0, wchar: 0 });
  });
});

describe('selfChildrenTicks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pvbench-selfstat-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("is the stat line's cutime and cstime", () => {
    writeFileSync(join(dir, 'stat'), `77 (node) ${UP_TO_STARTTIME.join(' ')} 1000 200\n`);
    assert.deepEqual(selfChildrenTicks(join(dir, 'stat')), { user: 12, sys: 5 });
  });

  test('is zero where there is no stat line to read (off Linux) or it does not parse', () => {
    assert.deepEqual(selfChildrenTicks(join(dir, 'missing')), { user: 0, sys: 0 });
    writeFileSync(join(dir, 'garbage'), 'no stat line');
    assert.deepEqual(selfChildrenTicks(join(dir, 'garbage')), { user: 0, sys: 0 });
  });
});

describe('clockTicksPerSecond', { skip: process.platform === 'win32' && 'needs a POSIX shell' }, () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /**
   * clockTicksPerSecond of a fresh copy of the module (the rate is read once per copy) with `script` as the only
   * getconf on PATH; without a script, no getconf at all.
   */
  async function ticksWithGetconf(script?: string): Promise<number> {
    const dir = mkdtempSync(join(tmpdir(), 'pvbench-getconf-'));
    dirs.push(dir);
    if (script !== undefined) {
      // The script's own commands come from the PATH of the test.
      writeFileSync(join(dir, 'getconf'), `#!/bin/sh\nPATH=${JSON.stringify(process.env.PATH ?? '')}\n${script}\n`);
      chmodSync(join(dir, 'getconf'), 0o755);
    }
    const url = new URL('../../src/metrics/process.ts', import.meta.url);
    url.search = `?getconf=${dirs.length}`;
    const fresh = (await import(url.href)) as typeof import('../../src/metrics/process.ts');
    const path = process.env.PATH;
    process.env.PATH = dir;
    try {
      return await fresh.clockTicksPerSecond();
    } finally {
      process.env.PATH = path;
    }
  }

  test("is getconf CLK_TCK's answer", async () => {
    assert.equal(await ticksWithGetconf('[ "$*" = CLK_TCK ] && echo 250 || exit 1'), 250);
  });

  test('is 100 when getconf is missing, fails, or answers no positive finite number', async () => {
    assert.equal(await ticksWithGetconf(), 100);
    assert.equal(await ticksWithGetconf('echo 250; exit 1'), 100);
    assert.equal(await ticksWithGetconf('echo 0'), 100);
    assert.equal(await ticksWithGetconf('echo -250'), 100);
    assert.equal(await ticksWithGetconf('echo Infinity'), 100);
    assert.equal(await ticksWithGetconf('echo ticks'), 100);
  });

  test('is 100 when getconf does not answer within 2 s', async () => {
    // It has answered, but not finished: the timeout kills it.
    assert.equal(await ticksWithGetconf('echo 250; exec sleep 8'), 100);
  });
});
