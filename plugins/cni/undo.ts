import { currentDeadline, withDeadline } from '../../lib/deadline.ts';
import { CniError, toCniError, type ErrorCodeValue } from './errors.ts';
import { runAll } from './run-all.ts';

// The undo log of one ADD: each step that changed the system records how to take it back, and a
// failure unwinds exactly those steps, newest first, continuing past steps that fail themselves.
// Unwinding runs under a deadline of its own: after the call's deadline passed it must still run.

/** How long unwinding may take outside a call's deadline (in a test); inside one, the time it reserves. */
const UNWIND_MS = 4_000;
/** Kept for answering after unwinding: the error must still be printed within the call's deadline. */
const ANSWER_MS = 100;

export class UndoLog {
  readonly #steps: { action: string; undo: () => Promise<unknown> }[] = [];

  record(action: string, undo: () => Promise<unknown>): void {
    this.#steps.push({ action, undo });
  }

  /** Runs every recorded step in reverse; returns "cannot <action>: <why>" for each that failed. */
  async unwind(): Promise<string[]> {
    const steps = this.#steps.splice(0).reverse();
    if (steps.length === 0) return [];
    try {
      const reserve = currentDeadline()?.reserveMs;
      const budget = reserve === undefined || reserve === 0 ? UNWIND_MS : Math.max(ANSWER_MS, reserve - ANSWER_MS);
      const failures = await withDeadline(budget, () => runAll(steps, (step) => step.undo()));
      return failures.map(({ item, error }) => `cannot ${item.action}: ${error instanceof Error ? error.message : String(error)}`);
    } catch (error) {
      return [`cannot undo every step: ${(error as Error).message}`];
    }
  }

  /** Unwinds, then throws what stopped the call as a CniError, with what could not be undone in its details. */
  async unwindAndThrow(thrown: unknown, failure: { code: ErrorCodeValue; action: string }): Promise<never> {
    const error = toCniError(thrown, failure.code, failure.action);
    const failures = await this.unwind();
    if (failures.length === 0) throw error;
    throw new CniError(error.code, error.message, { details: [error.details, ...failures].filter(Boolean).join('; '), cause: thrown });
  }
}
