// A monotonic stopwatch: immune to wall-clock adjustments, sub-millisecond resolution.

/** Starts a timer; the returned function gives the milliseconds elapsed since, as a fraction. */
export function startTimer(): () => number {
  const t0 = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - t0) / 1e6;
}
