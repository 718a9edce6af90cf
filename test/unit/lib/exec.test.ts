import { describe, expect, it } from 'vitest';
import { startWithDeadline } from '../../../lib/deadline.ts';
import { run, runWithoutChildProcess, spawnWithoutChildProcess } from '../../../lib/exec.ts';

// The form one-shot CNI calls use: Node's spawn handles, without node:child_process.
describe('run, without node:child_process', () => {
  spawnWithoutChildProcess();

  it('feeds stdin and returns the exit code, stdout and stderr', async () => {
    const result = await run('sh', ['-c', 'cat; echo oops >&2; exit 3'], { input: 'line one\nline two\n' });
    expect(result).toEqual({ code: 3, stdout: 'line one\nline two\n', stderr: 'oops\n' });
  });

  it('passes the environment it is given and nothing else', async () => {
    const result = await run('/bin/sh', ['-c', 'echo "$WEFT_X:${HOME:-none}"'], { env: { WEFT_X: 'y', PATH: '/usr/bin:/bin' } });
    expect(result.stdout).toBe('y:none\n');
  });

  it('runs in the working directory it is given', async () => {
    expect((await run('pwd', [], { cwd: '/usr' })).stdout).toBe('/usr\n');
  });

  it('kills a program that outlives its timeout and says so', async () => {
    const started = performance.now();
    const result = await run('sleep', ['10'], { timeoutMs: 200 });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(result.code).toBe(128);
    expect(result.stderr).toContain('killed by SIGKILL');
  });

  it('rejects with the system error when the program does not exist', async () => {
    await expect(run('weft-no-such-program', [])).rejects.toMatchObject({ code: 'ENOENT', message: 'spawn weft-no-such-program ENOENT' });
  });
});

// A CNI call's spawns, on the handles under node:child_process.
describe('runWithoutChildProcess', () => {
  it('runs the program with its input, then returns its exit code, stdout and stderr', async () => {
    expect(await runWithoutChildProcess('sh', ['-c', 'cat; echo oops >&2; exit 3'], { input: 'line one\nline two\n' })).toEqual({ code: 3, stdout: 'line one\nline two\n', stderr: 'oops\n' });
  });

  it('writes an input larger than a pipe holds whole', async () => {
    expect((await runWithoutChildProcess('wc', ['-c'], { input: 'x'.repeat(300_000) })).stdout.trim()).toBe('300000');
  });

  it('closes stdin without input, so a reader of it exits', async () => {
    expect(await runWithoutChildProcess('sh', ['-c', 'cat; echo end'])).toEqual({ code: 0, stdout: 'end\n', stderr: '' });
  });

  it('kills the program when the current deadline passes', async () => {
    const run = startWithDeadline(200, async () => runWithoutChildProcess('sleep', ['10']));
    const result = await run.work;
    run.clear();
    expect(result.code).toBe(128);
    expect(result.stderr).toContain('killed by SIGKILL');
  });

  it('throws the system error when the program does not exist', () => {
    expect(() => runWithoutChildProcess('weft-no-such-program', [])).toThrow(expect.objectContaining({ code: 'ENOENT', message: 'spawn weft-no-such-program ENOENT' }));
  });
});
