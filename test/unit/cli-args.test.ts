import { describe, expect, it } from '@jest/globals';
import { UsageError, parseArgs } from '../../src/cli/args.js';

const options = { name: { value: true }, org: { value: true, repeatable: true }, 'site-admin': { value: false } };

describe('command-line argument parsing', () => {
  it('reads values, repeated values, flags and positionals', () => {
    const args = parseArgs(['a@x.test', '--name', 'Ada', '--org', 'city:owner', '--org=county', '--site-admin'], options);
    expect(args.positionals).toStrictEqual(['a@x.test']);
    expect(args.values.get('org')).toStrictEqual(['city:owner', 'county']);
    expect(args.values.get('name')).toStrictEqual(['Ada']);
    expect(args.flags.has('site-admin')).toBe(true);
  });

  const bad: Array<[string[], RegExp]> = [
    [['--nope'], /Unknown option --nope/],
    [['--name'], /--name needs a value/],
    [['--name', '--org', 'x'], /--name needs a value/],
    [['--name', 'a', '--name', 'b'], /only once/],
    [['--site-admin=yes'], /does not take a value/],
  ];
  for (const [argv, expected] of bad) {
    it(`refuses ${argv.join(' ')}`, () => {
      expect(() => parseArgs(argv, options)).toThrow(UsageError);
      expect(() => parseArgs(argv, options)).toThrow(expected);
    });
  }
});
