import { BatchSession, type LineFailure } from '../../lib/batch-session.ts';
import { IpBatchError, saysMissing } from '../../lib/ip-batch.ts';
import type { FabricCommands } from './fabric-plan.ts';

// Applies fabric changes through one long-lived `bridge -batch` and one `ip -batch` for the life of
// weftd, so a change costs no process start on any node. When a peer changed, FDB entries go first,
// then neighbours and routes (flannel's order: a route only points at a VTEP its packets can be
// encapsulated to); otherwise both programs run at once, which halves the wake-ups between a lease
// arriving and its route, the figure that grows with the number of nodes sharing the machine's cores.

export interface FabricApplied {
  /** Removals that failed for another reason than the entry being gone already. */
  removalErrors: string[];
}

function describe(failure: LineFailure, program: string): string {
  return `${program} ${failure.line}: ${failure.message}`;
}

/** What the writer needs of a batch program (lib/batch-session.ts; a fake in unit tests). */
export interface LineRunner {
  run(lines: readonly string[]): Promise<LineFailure[]>;
  start(): void;
  readonly used: boolean;
  close(): Promise<void>;
}

export class FabricWriter {
  readonly #bridge: LineRunner;
  readonly #ip: LineRunner;

  constructor(runners: { bridge: LineRunner; ip: LineRunner } = { bridge: new BatchSession('bridge'), ip: new BatchSession('ip') }) {
    this.#bridge = runners.bridge;
    this.#ip = runners.ip;
  }

  /**
   * Removals first (an entry already gone is the goal reached), then additions. Every line is tried;
   * the first addition that failed is thrown as an IpBatchError naming its line.
   */
  async apply(commands: FabricCommands): Promise<FabricApplied> {
    const runBridge = () => this.#bridge.run([...commands.bridgeRemove, ...commands.bridgeAdd]);
    const runIp = () => this.#ip.run([...commands.ipRemove, ...commands.ipAdd]);
    const [bridge, ip] = commands.fdbFirst ? [await runBridge(), await runIp()] : await Promise.all([runBridge(), runIp()]);
    const removalErrors = [
      ...ip.filter((f) => f.index < commands.ipRemove.length && !saysMissing(f.message)).map((f) => describe(f, 'ip')),
      ...bridge.filter((f) => f.index < commands.bridgeRemove.length && !saysMissing(f.message)).map((f) => describe(f, 'bridge')),
    ];
    const failedAdds = [
      ...bridge.filter((f) => f.index >= commands.bridgeRemove.length).map((f) => ({ ...f, index: f.index - commands.bridgeRemove.length })),
      ...ip.filter((f) => f.index >= commands.ipRemove.length).map((f) => ({ ...f, index: f.index - commands.ipRemove.length })),
    ];
    const first = failedAdds[0];
    if (first) {
      const more = failedAdds.length > 1 ? ` (and ${failedAdds.length - 1} more: ${failedAdds.slice(1).map((f) => f.line).join('; ')})` : '';
      throw new IpBatchError(first.index + 1, first.line, `${first.message}${more}`);
    }
    return { removalErrors };
  }

  /** Starts both programs now (weftd does while it leases its subnet), so the first apply starts none. */
  warmUp(): void {
    this.#bridge.start();
    this.#ip.start();
  }

  /**
   * The VXLAN device was made anew: ip and bridge keep the interface indexes they looked up, and a new
   * device has a new index, so a program that ran lines before ends (the next apply starts another).
   */
  async deviceMade(): Promise<void> {
    await Promise.all([this.#bridge, this.#ip].filter((runner) => runner.used).map((runner) => runner.close()));
  }

  /** Ends both programs; the next apply starts new ones. */
  async close(): Promise<void> {
    await Promise.all([this.#bridge.close(), this.#ip.close()]);
  }
}
