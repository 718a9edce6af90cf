import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../lib/log.ts';
import { redactSecrets } from '../../../lib/redact.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-redact-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('secrets in logs', () => {
  it('replaces the password of every URL, as Go\'s url.URL.Redacted does', () => {
    expect(redactSecrets('cannot reach etcd at "http://root:s3cret@10.0.0.1:2379,https://u:p%40ss@e:1"')).toBe('cannot reach etcd at "http://root:xxxxx@10.0.0.1:2379,https://u:xxxxx@e:1"');
    expect(redactSecrets('http://10.0.0.1:2379 and user@host')).toBe('http://10.0.0.1:2379 and user@host');
  });

  it('never writes a URL password into a log line, in the message or in a field', () => {
    const file = join(dir, 'log');
    const log = createLogger({ component: 'test', file });
    log.warn('cannot reach etcd at "http://root:s3cret@10.0.0.1:2379", retrying', { error: new Error('fetch http://root:s3cret@10.0.0.1:2379/v3/kv/range failed') });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('s3cret');
    expect(text).toContain('http://root:xxxxx@10.0.0.1:2379');
  });
});
