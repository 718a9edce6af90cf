import { describe, expect, it } from 'vitest';
import { UndoLog } from '../../../plugins/cni/undo.ts';

describe('UndoLog', () => {
  it('undoes newest first, continues past a failing step and reports it', async () => {
    const done: string[] = [];
    const log = new UndoLog();
    log.record('release the address', async () => done.push('address'));
    log.record('delete the veth', async () => {
      throw new Error('device busy');
    });
    log.record('remove the rules', async () => done.push('rules'));
    expect(await log.unwind()).toEqual(['cannot delete the veth: device busy']);
    expect(done).toEqual(['rules', 'address']);
  });

  it('runs each step once, so a second unwind does nothing', async () => {
    let runs = 0;
    const log = new UndoLog();
    log.record('count', async () => runs++);
    await log.unwind();
    await log.unwind();
    expect(runs).toBe(1);
  });
});
