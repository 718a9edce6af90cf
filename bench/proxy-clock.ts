// One clock for the benchmark and the helper processes it starts: wall-clock milliseconds with
// sub-millisecond precision, comparable across processes (the proxies' logs use the same).

export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
