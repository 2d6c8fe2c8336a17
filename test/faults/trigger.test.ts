// The fault trigger: it looks at an operation's progress only while the operation is held, fires at the point it
// saw, and always lets the operation run on; operations that cannot be held are polled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { armTrigger } from '../../src/faults/context.ts';
import type { RunningOp } from '../../src/tools/types.ts';

/** Every wait bounded: a trigger that never lets go of its operation fails the test instead of hanging it. */
function bounded<T>(p: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
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

test('a slow look buys the operation a longer slice; hooks used for a second operation do not leave it held', async () => {
  const f = fakeOp({ holdable: true, startHeld: true });
  const slow = { ...f.op, progress: async () => (await new Promise((r) => setTimeout(r, 5)), f.op.progress()) };
  const trigger = armTrigger(0.9, undefined, async (op) => void (await op.kill()));
  const t0 = Date.now();
  trigger.hooks.onStart!(slow);
  await bounded(trigger.done(f.settled), 'trigger.done');
  const looks = f.events.filter((e) => e.startsWith('look')).length;
  // 10% per running ms and >= 20 ms of running per 5 ms look: a few looks, not one per millisecond.
  assert.ok(looks <= 4, `${looks} looks in ${Date.now() - t0} ms`);

  const g = fakeOp({ holdable: true, startHeld: true });
  trigger.hooks.onStart!(g.op);
  await bounded(g.settled, 'the second operation runs to its end');
  assert.equal(g.held(), false);
});
