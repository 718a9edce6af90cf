import { describe, expect, it } from 'vitest';
import { run, spawnBlocking } from '../../../lib/exec.ts';

// The blocking form one-shot CNI calls use: Node's synchronous spawn binding, without node:child_process.
describe('run, blocking', () => {
  spawnBlocking();

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
    await expect(run('weft-no-such-program', [])).rejects.toMatchObject({ code: 'ENOENT', message: 'spawnSync weft-no-such-program ENOENT' });
  });
});
