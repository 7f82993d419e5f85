import fs from 'node:fs';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { eventually } from './eventually.js';

export interface CapturedMail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** Every server this test file started, so that a helper can read a person's newest e-mail as they would. */
const running = new Set<TestSmtpServer>();
/** The outbox folders of instances started without a mail server (their e-mails are files there). */
const fileOutboxes = new Set<string>();

/** Registers an instance's DATA_DIR/outbox, where it writes its e-mails when it has no SMTP_URL. */
export function readMailFilesIn(folder: string): void {
  fileOutboxes.add(folder);
}

/** What the mail servers and outbox folders hold for `to`, oldest first. */
async function mailTo(to: string): Promise<Array<Pick<CapturedMail, 'subject' | 'text'>>> {
  const found: Array<Pick<CapturedMail, 'subject' | 'text'> & { at: number }> = [];
  for (const server of running) found.push(...server.messages.filter((message) => message.to === to).map((message, at) => ({ ...message, at })));
  for (const folder of fileOutboxes) {
    const files = fs.existsSync(folder) ? fs.readdirSync(folder).map((name) => path.join(folder, name)) : [];
    for (const file of files) {
      const mail = await simpleParser(fs.readFileSync(file));
      const address = (Array.isArray(mail.to) ? mail.to[0] : mail.to)?.value[0]?.address;
      if (address === to) found.push({ subject: mail.subject ?? '', text: mail.text ?? '', at: fs.statSync(file).mtimeMs });
    }
  }
  return found.sort((a, b) => a.at - b.at);
}

/**
 * The code e-mailed to confirm a first set-up (docs/rules.md, "The first set-up belongs to the
 * person") from whichever of this file's mail servers received it: the newest one not in `except`
 * (codes already tried), waiting up to `timeoutMs` for one.
 */
export function emailedSetupCode(to: string, { except = [] }: { except?: readonly string[] } = {}): Promise<string> {
  return eventually(async () =>
    (await mailTo(to))
      .filter((message) => /finish setting up two-factor/.test(message.subject))
      .map((message) => /Your code: (\d{6})/.exec(message.text)?.[1])
      .filter((code): code is string => code !== undefined && !except.includes(code))
      .at(-1),
  );
}

/** A real SMTP server on a loopback port that keeps what it receives. */
export class TestSmtpServer {
  readonly messages: CapturedMail[] = [];
  #server: SMTPServer;
  #waiters: Array<() => void> = [];
  port = 0;

  /** `delayMs`: how long each message takes to be accepted, as a busy mail server's would. */
  constructor({ delayMs = 0 }: { delayMs?: number } = {}) {
    this.#server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, _session, callback) => {
        simpleParser(stream).then((mail: ParsedMail) => {
          this.messages.push({
            to: (Array.isArray(mail.to) ? mail.to[0] : mail.to)?.value[0]?.address ?? '',
            subject: mail.subject ?? '',
            text: mail.text ?? '',
            html: typeof mail.html === 'string' ? mail.html : '',
          });
          for (const wake of this.#waiters.splice(0)) wake();
          setTimeout(callback, delayMs);
        }, callback);
      },
    });
  }

  async start(port = 0): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(port, '127.0.0.1', () => resolve()));
    running.add(this);
    this.port = (this.#server.server.address() as { port: number }).port;
    return `smtp://127.0.0.1:${this.port}`;
  }

  /**
   * Waits for a message to `to` whose subject matches, woken by each message that arrives; the
   * test's own timeout ends a wait for one that never comes (see eventually).
   */
  async waitFor(to: string, subject: RegExp): Promise<CapturedMail> {
    for (;;) {
      const found = this.messages.find((message) => message.to === to && subject.test(message.subject));
      if (found) return found;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  close(): Promise<void> {
    running.delete(this);
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
