// Cleanup (DEL, GC, undoing a failed ADD) must get as far as it can: every step runs even when an
// earlier one failed, and the caller decides how to report what failed.

export interface StepFailure<T> {
  readonly item: T;
  readonly error: unknown;
}

/** Runs `step` for every item in order, continuing past failures; returns the failures in order. */
export async function runAll<T>(items: Iterable<T>, step: (item: T) => unknown): Promise<StepFailure<T>[]> {
  const failures: StepFailure<T>[] = [];
  for (const item of items) {
    try {
      await step(item);
    } catch (error) {
      failures.push({ item, error });
    }
  }
  return failures;
}
