import { UserError } from '../errors.js';

export interface OptionSpec {
  /** Takes a value (`--name City`) or is a flag (`--site-admin`). */
  readonly value: boolean;
  readonly repeatable?: boolean;
}

export interface ParsedArgs {
  readonly positionals: string[];
  readonly values: Map<string, string[]>;
  readonly flags: Set<string>;
}

export class UsageError extends UserError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** Parses `--name value`, `--name=value` and `--flag` against the options a command accepts. */
export function parseArgs(argv: readonly string[], options: Readonly<Record<string, OptionSpec>>): ParsedArgs {
  const positionals: string[] = [];
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const spec = options[name];
    if (!spec) throw new UsageError(`Unknown option --${name}.`);
    if (!spec.value) {
      if (eq !== -1) throw new UsageError(`--${name} does not take a value.`);
      flags.add(name);
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i += 1;
    }
    if (value === undefined || (eq === -1 && value.startsWith('--'))) throw new UsageError(`--${name} needs a value.`);
    const previous = values.get(name) ?? [];
    if (previous.length > 0 && !spec.repeatable) throw new UsageError(`--${name} can be given only once.`);
    values.set(name, [...previous, value]);
  }
  return { positionals, values, flags };
}

export function one(args: ParsedArgs, name: string): string | undefined {
  return args.values.get(name)?.[0];
}

export function required(args: ParsedArgs, name: string): string {
  const value = one(args, name);
  if (value === undefined) throw new UsageError(`--${name} is required.`);
  return value;
}

export function positionals(args: ParsedArgs, names: readonly string[]): string[] {
  if (args.positionals.length < names.length) throw new UsageError(`Missing ${names.slice(args.positionals.length).map((n) => `<${n}>`).join(' ')}.`);
  if (args.positionals.length > names.length) throw new UsageError(`Unexpected argument "${args.positionals[names.length]}".`);
  return args.positionals;
}

export function onOff(value: string, option: string): boolean {
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw new UsageError(`--${option} takes on or off, not "${value}".`);
}
