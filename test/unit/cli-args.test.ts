import { describe, expect, it } from '@jest/globals';
import { UserError } from '../../src/errors.js';
import { UsageError, onOff, one, parseArgs, positionals, required } from '../../src/cli/args.js';

const options = { name: { value: true }, org: { value: true, repeatable: true }, 'site-admin': { value: false } };

describe('command-line argument parsing', () => {
  it('reads values, repeated values, flags and positionals', () => {
    const args = parseArgs(['a@x.test', '--name', 'Ada', '--org', 'city:owner', '--org=county', '--site-admin'], options);
    expect(args.positionals).toStrictEqual(['a@x.test']);
    expect(args.values.get('org')).toStrictEqual(['city:owner', 'county']);
    expect(args.values.get('name')).toStrictEqual(['Ada']);
    expect(args.flags.has('site-admin')).toBe(true);
  });

  const good: Array<[string[], { positionals: string[]; values: Record<string, string[]>; flags: string[] }]> = [
    [[], { positionals: [], values: {}, flags: [] }],
    [['--name='], { positionals: [], values: { name: [''] }, flags: [] }],
    [['--name=-x'], { positionals: [], values: { name: ['-x'] }, flags: [] }],
    [['--name', 'Lovelace, Ada', 'ada@x.test'], { positionals: ['ada@x.test'], values: { name: ['Lovelace, Ada'] }, flags: [] }],
    [['-'], { positionals: ['-'], values: {}, flags: [] }],
    [['a', '--', '--org'], { positionals: ['a', '--org'], values: {}, flags: [] }],
    [['--site-admin', '--site-admin'], { positionals: [], values: {}, flags: ['site-admin'] }],
  ];
  for (const [argv, expected] of good) {
    it(`reads ${JSON.stringify(argv)}`, () => {
      const args = parseArgs(argv, options);
      expect({ positionals: args.positionals, values: Object.fromEntries(args.values), flags: [...args.flags] }).toStrictEqual(expected);
    });
  }

  const bad: Array<[string[], string]> = [
    [['--nope'], 'Unknown option --nope.'],
    [['-n'], 'Unknown option -n.'],
    [['--Name', 'Ada'], 'Unknown option --Name.'],
    [['--name'], '--name needs a value.'],
    [['--name', '--org', 'x'], '--name needs a value.'],
    [['--name', '-x'], '--name needs a value (write --name=-x if "-x" is the value).'],
    [['--name', 'a', '--name', 'b'], '--name can be given only once.'],
    [['--name=a', '--name=b'], '--name can be given only once.'],
    [['--site-admin=yes'], '--site-admin does not take a value.'],
  ];
  for (const [argv, sentence] of bad) {
    it(`refuses ${argv.join(' ')}: "${sentence}"`, () => {
      expect(() => parseArgs(argv, options)).toThrow(UsageError);
      expect(() => parseArgs(argv, options)).toThrow(new UsageError(sentence));
    });
  }

  it('reads single values, required values, positionals and on/off', () => {
    const args = parseArgs(['city', '--name', 'City'], options);
    expect(one(args, 'name')).toBe('City');
    expect(one(args, 'org')).toBeUndefined();
    expect(required(args, 'name')).toBe('City');
    expect(() => required(args, 'org')).toThrow(new UsageError('--org is required.'));
    expect(positionals(args, ['slug'])).toStrictEqual(['city']);
    expect(() => positionals(args, ['slug', 'email'])).toThrow(new UsageError('Missing <email>.'));
    expect(() => positionals(args, [])).toThrow(new UsageError('Unexpected argument "city".'));
    expect([onOff('on', 'force-2fa'), onOff('off', 'force-2fa')]).toStrictEqual([true, false]);
    expect(() => onOff('yes', 'force-2fa')).toThrow(new UsageError('--force-2fa takes on or off, not "yes".'));
  });

  it('is a user error that says the shell\'s exit status 2', () => {
    const error = new UsageError('Missing <slug>.');
    expect(error).toBeInstanceOf(UserError);
    expect(error.exitCode).toBe(2);
    expect(error.name).toBe('UsageError');
  });
});
