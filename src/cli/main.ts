import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../config/index.js';
import { createLogger } from '../log.js';
import { compose, type Composition } from '../compose.js';
import { UserError } from '../errors.js';
import { UsageError, parseArgs } from './args.js';
import { COMMANDS } from './commands.js';

export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  out(line: string): void;
  err(line: string): void;
  readStdin(): Promise<string>;
  progress?(text: string): void;
}

function usage(): string {
  return [
    'Usage: twofold <command> [options]',
    'Uses the server\'s configuration (DATA_DIR, MONGODB_URI, ENCRYPTION_KEY …) from the environment.',
    '',
    ...Object.values(COMMANDS).flatMap((command) => [`  twofold ${command.usage}`, `      ${command.summary}`]),
  ].join('\n');
}

/**
 * Runs one command on the configured store, through the application layer, and returns the exit status. Success prints one
 * line; failure prints one line starting with "twofold:" and returns non-zero (2 for usage errors).
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    io.out(usage());
    return argv.length === 0 ? 2 : 0;
  }
  const name = `${argv[0]} ${argv[1] ?? ''}`.trim();
  const command = COMMANDS[name];
  if (!command) {
    io.err(`twofold: unknown command "${name}"; run "twofold help" for the list.`);
    return 2;
  }
  let composition: Composition | undefined;
  try {
    const args = parseArgs(argv.slice(2), command.options);
    const config = loadConfig(io.env, io.cwd);
    // The command line says one line; only a mail that cannot be delivered now is worth a second one.
    // It stays in the outbox, and the server's worker retries it.
    composition = await compose(config, createLogger('warn', (line) => io.err(`twofold: ${line}`), { format: 'plain' }));
    const queued: string[] = [];
    composition.mailer.onQueued((id) => queued.push(id));
    const result = await command.run(args, {
      application: composition.application,
      readStdin: io.readStdin,
      readFile: async (file) => {
        try {
          return await fs.promises.readFile(path.resolve(io.cwd, file), 'utf8');
        } catch {
          throw new UserError(`Cannot read ${file}.`);
        }
      },
      ...(io.progress ? { progress: io.progress } : {}),
    });
    if (queued.length > 0) await composition.delivery.deliverDue(queued);
    const { out, problems = [], status = 0 } = typeof result === 'string' ? { out: result } : result;
    for (const problem of problems) io.err(problem);
    io.out(out);
    return status;
  } catch (error) {
    if (error instanceof UserError) {
      io.err(`twofold: ${error.message}`);
      return error instanceof UsageError ? error.exitCode : 1;
    }
    if (error instanceof ConfigError) {
      io.err(`twofold: configuration error: ${error.message}`);
      return 1;
    }
    io.err(`twofold: ${(error as Error).message.split('\n')[0]}`);
    return 1;
  } finally {
    await composition?.close();
  }
}
