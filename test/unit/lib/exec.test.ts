import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startWithDeadline } from '../../../lib/deadline.ts';
import { run, spawnWithoutChildProcess, startRun } from '../../../lib/exec.ts';

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

// A program started before its input is known (CNI ADD starts both sides' `ip` while IPAM runs).
describe('startRun', () => {
  const scratch = (): string => mkdtempSync(join(tmpdir(), 'weft-exec-'));

  it('runs the program before its input is given, then returns its exit code, stdout and stderr', async () => {
    const dir = scratch();
    const started = startRun('sh', ['-c', `touch ${dir}/running; cat; echo oops >&2; exit 3`]);
    await expect.poll(() => existsSync(`${dir}/running`), { timeout: 5000 }).toBe(true);
    expect(await started.finish('line one\nline two\n')).toEqual({ code: 3, stdout: 'line one\nline two\n', stderr: 'oops\n' });
    rmSync(dir, { recursive: true });
  });

  it('writes an input larger than a pipe holds whole', async () => {
    const input = 'x'.repeat(300_000);
    expect((await startRun('wc', ['-c']).finish(input)).stdout.trim()).toBe('300000');
  });

  it('lets a cancelled program read the end of its input and exit', async () => {
    const dir = scratch();
    startRun('sh', ['-c', `cat >/dev/null; touch ${dir}/ended`]).cancel();
    await expect.poll(() => existsSync(`${dir}/ended`), { timeout: 5000 }).toBe(true);
    rmSync(dir, { recursive: true });
  });

  it('kills the program when the current deadline passes', async () => {
    const run = startWithDeadline(200, async () => startRun('sleep', ['10']).finish(''));
    const result = await run.work;
    run.clear();
    expect(result.code).toBe(128);
    expect(result.stderr).toContain('killed by SIGKILL');
  });

  it('throws the system error when the program does not exist', () => {
    expect(() => startRun('weft-no-such-program', [])).toThrow(expect.objectContaining({ code: 'ENOENT', message: 'spawn weft-no-such-program ENOENT' }));
  });
});
