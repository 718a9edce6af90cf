import { runAll } from '../cni/run-all.ts';

// The undo log of one ADD: each step that changed the system records how to take it back, and a
// failure unwinds exactly those steps, newest first, continuing past steps that fail themselves.

export class UndoLog {
  readonly #steps: { action: string; undo: () => Promise<unknown> }[] = [];

  record(action: string, undo: () => Promise<unknown>): void {
    this.#steps.push({ action, undo });
  }

  /** Runs every recorded step in reverse; returns "cannot <action>: <why>" for each that failed. */
  async unwind(): Promise<string[]> {
    const failures = await runAll(this.#steps.splice(0).reverse(), (step) => step.undo());
    return failures.map(({ item, error }) => `cannot ${item.action}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
