import { parseArgs as parseNodeArgs, type ParseArgsConfig } from 'node:util';
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

/** A mistyped command line: exit status 2 to a shell. */
export class UsageError extends UserError {
  readonly exitCode = 2;

  constructor(message: string) {
    super(message);
  }
}

type NodeOptions = NonNullable<ParseArgsConfig['options']>;

function nodeOptions(options: Readonly<Record<string, OptionSpec>>): NodeOptions {
  return Object.fromEntries(Object.entries(options).map(([name, spec]) => [
    name,
    spec.value ? { type: 'string' as const, multiple: spec.repeatable ?? false } : { type: 'boolean' as const },
  ]));
}

/** The option node's error is about, as its message quotes it: `Unknown option '--colour'`, `Option '--name <value>' …`. */
const quotedOption = (message: string) => /'(--?[^'\s<]+)/.exec(message)?.[1];

/** Node's sentences quote the option and suggest `--`; ours say what to fix, in the words the README uses. */
function usageError(error: unknown, argv: readonly string[], options: Readonly<Record<string, OptionSpec>>): unknown {
  const { code, message } = error as { code?: string; message: string };
  if (!code?.startsWith('ERR_PARSE_ARGS_')) return error;
  const option = quotedOption(message);
  if (option && code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new UsageError(`Unknown option ${option}.`);
  if (option && code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (options[option.replace(/^--?/, '')]?.value === false) return new UsageError(`${option} does not take a value.`);
    const next = argv[argv.indexOf(option) + 1];
    const hint = next?.startsWith('-') && !next.startsWith('--') ? ` (write ${option}=${next} if "${next}" is the value)` : '';
    return new UsageError(`${option} needs a value${hint}.`);
  }
  return new UsageError(message.split('\n')[0]!);
}

/** Parses `--name value`, `--name=value` and `--flag` against the options a command accepts. */
export function parseArgs(argv: readonly string[], options: Readonly<Record<string, OptionSpec>>): ParsedArgs {
  let parsed;
  try {
    parsed = parseNodeArgs({ args: [...argv], options: nodeOptions(options), strict: true, allowPositionals: true, tokens: true });
  } catch (error) {
    throw usageError(error, argv, options);
  }
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option') continue;
    if (token.value === undefined) {
      flags.add(token.name);
      continue;
    }
    const previous = values.get(token.name) ?? [];
    // Node keeps the last of a repeated single-valued option; a second --2fa is more likely a mistake.
    if (previous.length > 0 && !options[token.name]?.repeatable) throw new UsageError(`--${token.name} can be given only once.`);
    values.set(token.name, [...previous, token.value]);
  }
  return { positionals: parsed.positionals, values, flags };
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
