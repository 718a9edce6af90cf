import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../../lib/exec.ts';
import { firstExited, type Component } from '../../../lab/kube/component-process.ts';

// The readiness waits' "did a component die" check, on components whose exits the test controls.

function component(name: string): { component: Component; exit: (stderr: string) => Promise<void> } {
  let resolve!: (r: RunResult) => void;
  const exited = new Promise<RunResult>((r) => (resolve = r));
  const process = { pid: 1, exited, stop: () => exited };
  return {
    component: { name, process },
    exit: async (stderr) => {
      resolve({ code: 137, stdout: '', stderr });
      await exited;
      await Promise.resolve();
    },
  };
}

describe('firstExited', () => {
  it('names a listed component that exited, with the end of its output', async () => {
    const etcd = component('etcd');
    const components = [etcd.component];
    const died = firstExited(components);
    expect(died()).toBeUndefined();
    await etcd.exit('bind: address in use');
    expect(died()).toBe('etcd exited with 137:\nbind: address in use');
  });

  it('forgets a component stopped on purpose and taken off the list, and watches the one started after it', async () => {
    const first = component('kube-apiserver');
    const components = [first.component];
    const died = firstExited(components);
    expect(died()).toBeUndefined();
    components.splice(0, 1);
    await first.exit('Shutting down');
    expect(died()).toBeUndefined();
    const second = component('kube-apiserver');
    components.push(second.component);
    expect(died()).toBeUndefined();
    await second.exit('etcd unreachable');
    expect(died()).toBe('kube-apiserver exited with 137:\netcd unreachable');
  });
});
