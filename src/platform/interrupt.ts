// The run's interrupt as seen from inside a trial. The first Ctrl-C or SIGTERM must stop whatever the trial is doing
// (a backup, a repository set-up, a recovery, a wait on the cluster), not only the operations that take an abort
// signal as an argument. AsyncLocalStorage carries the signal to every process and wait started within the trial,
// however deep; the trial's clean-up runs outside it, so it still works after an interrupt.
import { AsyncLocalStorage } from 'node:async_hooks';

const current = new AsyncLocalStorage<AbortSignal>();

/** Runs `fn` (a trial's work) with `signal` as the interrupt of every process and wait it starts. */
export function duringTrial<T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  return signal ? current.run(signal, fn) : fn();
}

/** `signal` joined with the interrupt of the trial this runs in, if any. */
export function withTrialInterrupt(signal?: AbortSignal): AbortSignal | undefined {
  const trial = current.getStore();
  if (!trial) return signal;
  return signal ? AbortSignal.any([signal, trial]) : trial;
}
