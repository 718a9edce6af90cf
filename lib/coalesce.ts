// Work that brings the system to the latest state, run one at a time: calls that arrive while a run
// is going share a single next run, which starts when the current one ends and so sees everything
// they changed. A burst of events costs at most two runs, and every caller learns the outcome of a
// run that started after its call.

export type Coalesced = () => Promise<void>;

export function coalesce(work: () => Promise<void>): Coalesced {
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  const start = (): Promise<void> => {
    const run = work().finally(() => {
      if (running === run) running = undefined;
    });
    running = run;
    return run;
  };
  return () => {
    if (next) return next;
    if (!running) return start();
    const queued = running
      .catch(() => {})
      .then(() => {
        next = undefined;
        return start();
      });
    next = queued;
    return queued;
  };
}
