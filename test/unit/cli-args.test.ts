import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError, parseArgs } from '../../src/cli/args.js';

const options = { name: { value: true }, org: { value: true, repeatable: true }, 'site-admin': { value: false } };

describe('command-line argument parsing', () => {
  it('reads values, repeated values, flags and positionals', () => {
    const args = parseArgs(['a@x.test', '--name', 'Ada', '--org', 'city:owner', '--org=county', '--site-admin'], options);
    assert.deepEqual(args.positionals, ['a@x.test']);
    assert.deepEqual(args.values.get('org'), ['city:owner', 'county']);
    assert.deepEqual(args.values.get('name'), ['Ada']);
    assert.ok(args.flags.has('site-admin'));
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
      assert.throws(() => parseArgs(argv, options), (error: unknown) => error instanceof UsageError && expected.test(error.message));
    });
  }
});
