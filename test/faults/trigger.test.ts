// The fault trigger: it looks at an operation's progress only while the operation is held, fires at the point it
// saw, and always lets the operation run on; operations that cannot be held are polled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { armTrigger } from '../../src/faults/context.ts';
import type { RunningOp } from '../../src/tools/types.ts';

/** Every wait bounded: a trigger that never lets go of its operation fails the test instead of hanging it. */
const realSetTimeout = setTimeout;
function bounded<T>(p: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = realSetTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

/** An operation that advances 10% per running millisecond and records what the trigger did to it. */
function fakeOp(opts: { holdable: boolean; startHeld: boolean }) {
  const events: string[] = [];
  let held = opts.startHeld;
  let progress = 0;
  let exited = false;
  let finish!: () => void;
  const settled = new Promise<void>((r) => (finish = r));
  const timer = setInterval(() => {
    if (held || exited) return;
    progress = Math.min(1, progress + 0.1);
    if (progress >= 1) {
      exited = true;
      clearInterval(timer);
      finish();
    }
  }, 1);
  const op: RunningOp = {
    describe: () => 'fake',
    progress: async () => {
      events.push(held ? 'look(held)' : 'look(running)');
      return progress;
    },
    kill: async () => {
      events.push(`kill at ${progress.toFixed(1)} ${held ? 'held' : 'running'}`);
      exited = true;
      clearInterval(timer);
      finish();
      return 'killed';
    },
    ...(opts.holdable
      ? {
          pause: async () => {
            if (exited) return false;
            held = true;
            return true;
          },
          resume: async () => {
            held = false;
          },
        }
      : {}),
  };
  return { op, events, settled, held: () => held, progress: () => progress };
}

test('a holdable operation is looked at only while held, fired on at the progress seen, and left running after', async () => {
  const f = fakeOp({ holdable: true, startHeld: true });
  let seen = -1;
  const trigger = armTrigger(0.3, undefined, async (op, p) => {
    seen = p;
    await op.kill();
  });
  assert.equal(trigger.hooks.holdAtStart, true, 'asks to start held');
  trigger.hooks.onStart!(f.op);
  await bounded(trigger.done(f.settled), 'trigger.done');
  assert.equal(trigger.fired(), true);
  assert.ok(seen >= 0.3 && seen < 1, `fired at ${seen}`);
  assert.deepEqual(new Set(f.events.filter((e) => e.startsWith('look'))), new Set(['look(held)']), 'never looked while it ran');
  assert.equal(f.events.at(-1), `kill at ${seen.toFixed(1)} held`, 'killed where it was seen, still held');
  assert.equal(f.held(), false, 'resumed after the fault fired');
});

test('an operation that ends before the point is not fired on, and is not left held', async () => {
  const f = fakeOp({ holdable: true, startHeld: true });
  const trigger = armTrigger(2, undefined, async (op) => void (await op.kill()));
  trigger.hooks.onStart!(f.op);
  await bounded(trigger.done(f.settled), 'trigger.done');
  assert.equal(trigger.fired(), false);
  assert.equal(f.progress(), 1);
  assert.equal(f.held(), false);
});

test('an operation that cannot be held is polled, and the time limit fires too', async () => {
  const f = fakeOp({ holdable: false, startHeld: false });
  const trigger = armTrigger(0.5, 0, async (op) => void (await op.kill()));
  trigger.hooks.onStart!(f.op);
  await bounded(trigger.done(f.settled), 'trigger.done');
  assert.equal(trigger.fired(), true, 'afterMs 0 fires at the first look');
  assert.deepEqual(f.events, ['look(running)', 'kill at 0.0 running']);
});

// How long a look buys the operation (4 times the look, 1 to 8 ms) is checked step by step below ('held: each look
// in a hold ...'), on scripted clocks: counting the looks of a real-time fake operation failed under load, when its
// 1 ms progress ticks come late.
test('hooks used for a second operation do not leave it held', async () => {
  const f = fakeOp({ holdable: true, startHeld: true });
  const trigger = armTrigger(0.9, undefined, async (op) => void (await op.kill()));
  trigger.hooks.onStart!(f.op);
  await bounded(trigger.done(f.settled), 'trigger.done');

  const g = fakeOp({ holdable: true, startHeld: true });
  trigger.hooks.onStart!(g.op);
  await bounded(g.settled, 'the second operation runs to its end');
  assert.equal(g.held(), false);
});

// The trigger's bookkeeping, step by step, on a scripted operation: what it held, looked at, let run and for how long
// (the slices it sleeps, read off setTimeout with performance.now scripted per look), what it fired on.
interface Script {
  progress: number[];
  /** How long each look takes (performance.now advances by it during the look). */
  lookMs?: number[];
  /** What each pause() answers (true: held); absent: the operation cannot be held. */
  pauses?: boolean[];
  /** Date.now() advances by this during each look. */
  clockMs?: number;
  /** pause() fails with this message (at its first call). */
  pauseFails?: string;
  /** It can be held but offers no resume (a broken operation). */
  noResume?: boolean;
  /** The operation ends at its first resume. */
  endAtResume?: boolean;
}

function scripted(s: Script) {
  const events: string[] = [];
  let looks = 0;
  let pauses = 0;
  let end!: () => void;
  /** Settles when it is killed (or ends at a resume). */
  const settled = new Promise<void>((r) => (end = r));
  const op: RunningOp = {
    describe: () => 'scripted',
    progress: async () => {
      const p = s.progress[Math.min(looks, s.progress.length - 1)]!;
      perf += s.lookMs?.[looks] ?? 0;
      now += s.clockMs ?? 0;
      looks++;
      events.push(`look ${p}`);
      return p;
    },
    kill: async () => {
      events.push('kill');
      end();
      return 'killed';
    },
    ...(s.pauses
      ? {
          pause: async () => {
            if (s.pauseFails) throw new Error(s.pauseFails);
            const held = s.pauses![Math.min(pauses++, s.pauses!.length - 1)]!;
            events.push(held ? 'pause' : 'pause (not held)');
            return held;
          },
          resume: async () => {
            events.push('resume');
            if (s.endAtResume) end();
          },
        }
      : {}),
  };
  if (s.noResume) delete op.resume;
  return { op, events, settled };
}

let perf = 0;
let now = 0;
/** Runs `fn` with performance.now and Date.now scripted and setTimeout recording its delays (and waiting 0 ms). */
async function scriptedTime<T>(fn: (slices: number[]) => Promise<T>): Promise<T> {
  const real = { perf: performance.now, date: Date.now, setTimeout: globalThis.setTimeout };
  const slices: number[] = [];
  perf = 1024;
  now = 1_700_000_000_000;
  performance.now = () => perf;
  Date.now = () => now;
  globalThis.setTimeout = ((cb: () => void, ms?: number) => {
    slices.push(ms ?? 0);
    return real.setTimeout(cb, 0);
  }) as typeof setTimeout;
  try {
    return await fn(slices);
  } finally {
    performance.now = real.perf;
    Date.now = real.date;
    globalThis.setTimeout = real.setTimeout;
  }
}

test('held: each look in a hold, the operation let run 4 times as long as the look took, from 1 to 8 ms; resumed after firing', async () => {
  await scriptedTime(async (slices) => {
    const { op, events, settled } = scripted({ progress: [0.1, 0.2, 0.3, 0.4, 0.45, 0.5], lookMs: [0.25, 1.5, 3, 0, 0.125], pauses: [true] });
    const fired: number[] = [];
    const t = armTrigger(0.5, undefined, async (o, p) => {
      fired.push(p);
      await o.kill();
    });
    t.hooks.onStart!(op);
    await bounded(t.done(settled), 'done');
    assert.deepEqual(events, [
      ...['pause', 'look 0.1', 'resume', 'pause', 'look 0.2', 'resume', 'pause', 'look 0.3', 'resume'],
      ...['pause', 'look 0.4', 'resume', 'pause', 'look 0.45', 'resume', 'pause', 'look 0.5', 'kill', 'resume'],
    ]);
    // 0.25 ms: exactly 1; 1.5 ms: 6; 3 ms: 12 → 8; 0 ms: 0 → 1; 0.125 ms: 0.5 → 1 (binary fractions: exact).
    assert.deepEqual(slices, [1, 6, 8, 1, 1]);
    assert.deepEqual(fired, [0.5], 'fired once, at exactly the fraction, with the progress seen');
    assert.equal(t.fired(), true);
  });
});

test('not holdable: polled every 3 ms however long a look takes, never paused or resumed', async () => {
  await scriptedTime(async (slices) => {
    const { op, events, settled } = scripted({ progress: [0.1, 0.2, 0.7], lookMs: [5, 0.1, 0] });
    const t = armTrigger(0.6, undefined, async (o) => void (await o.kill()));
    t.hooks.onStart!(op);
    await bounded(t.done(settled), 'done');
    assert.deepEqual(events, ['look 0.1', 'look 0.2', 'look 0.7', 'kill']);
    assert.deepEqual(slices, [3, 3]);
  });
});

test('a pause that finds the operation gone is not answered with a resume; the hold after it is', async () => {
  await scriptedTime(async () => {
    const { op, events, settled } = scripted({ progress: [0.1, 0.2, 0.9], pauses: [true, false, true] });
    const t = armTrigger(0.5, undefined, async (o) => void (await o.kill()));
    t.hooks.onStart!(op);
    await bounded(t.done(settled), 'done');
    assert.deepEqual(events, ['pause', 'look 0.1', 'resume', 'pause (not held)', 'look 0.2', 'pause', 'look 0.9', 'kill', 'resume']);
  });
});

test('an operation that ends while it runs between looks: the trigger stops without another hold or resume, not fired', async () => {
  await scriptedTime(async () => {
    const { op, events, settled } = scripted({ progress: [0.1], pauses: [true], endAtResume: true });
    const t = armTrigger(0.5, undefined, async (o) => void (await o.kill()));
    t.hooks.onStart!(op);
    await bounded(t.done(settled), 'done');
    assert.deepEqual(events, ['pause', 'look 0.1', 'resume']);
    assert.equal(t.fired(), false);
  });
});

test('afterMs: fires at the first look at least afterMs after the start, whatever the progress; a failed operation settles done', async () => {
  await scriptedTime(async () => {
    const { op, events, settled } = scripted({ progress: [0], pauses: [true], clockMs: 25 });
    const t = armTrigger(0.5, 50, async (o) => void (await o.kill()));
    t.hooks.onStart!(op);
    await bounded(t.done(settled.then(() => Promise.reject(new Error('killed')))), 'done');
    // Looks 25 and 50 ms after the start: the second is exactly afterMs in.
    assert.deepEqual(events, ['pause', 'look 0', 'resume', 'pause', 'look 0', 'kill', 'resume']);
    assert.equal(t.fired(), true);
  });
});

test('one trigger, one operation: another started while it watches, or after it is done, is let run and never looked at', async () => {
  await scriptedTime(async () => {
    const first = scripted({ progress: [0.1, 0.9], pauses: [true] });
    const second = scripted({ progress: [0.9], pauses: [true] });
    const t = armTrigger(0.5, undefined, async (o) => void (await o.kill()));
    t.hooks.onStart!(first.op);
    t.hooks.onStart!(second.op);
    await bounded(t.done(first.settled), 'done');
    assert.deepEqual(second.events, ['resume']);
    assert.deepEqual(first.events, ['pause', 'look 0.1', 'resume', 'pause', 'look 0.9', 'kill', 'resume']);

    const late = armTrigger(0.5, undefined, async (o) => void (await o.kill()));
    await late.done(Promise.resolve());
    const third = scripted({ progress: [0.9], pauses: [true] });
    late.hooks.onStart!(third.op);
    await late.done(Promise.resolve());
    assert.deepEqual(third.events, ['resume'], 'after done: let run at once');
    assert.equal(late.fired(), false);
    const unholdable = scripted({ progress: [0.9] });
    late.hooks.onStart!(unholdable.op);
    t.hooks.onStart!(unholdable.op);
    assert.deepEqual(unholdable.events, [], 'nothing to resume');
  });
});

test('a pause that fails: the trigger stops with its error, nothing resumed; held but no resume: an error, not a process left held', async () => {
  await scriptedTime(async () => {
    const { op, events } = scripted({ progress: [0.1], pauses: [true], pauseFails: 'kill -STOP 4242: EPERM' });
    const t = armTrigger(0.5, undefined, async (o) => void (await o.kill()));
    t.hooks.onStart!(op);
    await assert.rejects(bounded(t.done(Promise.resolve()), 'done'), { message: 'kill -STOP 4242: EPERM' });
    assert.deepEqual(events, []);
    assert.equal(t.fired(), false);

    const broken = scripted({ progress: [0.1], pauses: [true], noResume: true });
    const u = armTrigger(0.5, undefined, async (o) => void (await o.kill()));
    u.hooks.onStart!(broken.op);
    await assert.rejects(bounded(u.done(Promise.resolve()), 'done'), TypeError);
    assert.deepEqual(broken.events, ['pause', 'look 0.1']);
  });
});
