import { describe, expect, it } from 'vitest';
import { assertExcludes, firstNonAscii } from '../../../build/bundle.ts';

describe('bundles stay ASCII', () => {
  it('finds the first byte outside ASCII, or -1', () => {
    expect(firstNonAscii(Buffer.from('const x = /(ns|us|\\u00b5s)/;'))).toBe(-1);
    expect(firstNonAscii(Buffer.from('const x = /(ns|us|\u00b5s)/;'))).toBe(18);
  });
});

describe('bundles that must not hold the Kubernetes client', () => {
  const excluded = ['@kubernetes/client-node'];

  it('accepts inputs from other packages and from the project', () => {
    expect(() => assertExcludes('dist/weftd.cjs', ['weftd/main.ts', 'node_modules/@kubernetes/client-node-like/x.js', 'node_modules/undici/index.js'], excluded)).not.toThrow();
  });

  it('names the bundle and the input that pulled the package in', () => {
    expect(() => assertExcludes('dist/weftd.cjs', ['weftd/main.ts', 'node_modules/@kubernetes/client-node/dist/index.js'], excluded)).toThrow(
      'cannot bundle: "dist/weftd.cjs" must not hold @kubernetes/client-node, but "node_modules/@kubernetes/client-node/dist/index.js" is in it',
    );
  });
});
