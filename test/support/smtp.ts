import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface CapturedMail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** Every server this test file started, so that a helper can read a person's newest e-mail as they would. */
const running = new Set<TestSmtpServer>();

/**
 * The code e-mailed to confirm a first set-up (docs/rules.md, "The first set-up belongs to the
 * person"), newest first, from whichever of this file's mail servers received it; waits up to
 * `timeoutMs` for a code newer than `except`.
 */
export async function emailedSetupCode(to: string, { except, timeoutMs = 5000 }: { except?: string; timeoutMs?: number } = {}): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const server of running) {
      const newest = server.messages.filter((message) => message.to === to && /finish setting up two-factor/.test(message.subject)).at(-1);
      const code = newest ? /Your code: (\d{6})/.exec(newest.text)?.[1] : undefined;
      if (code && code !== except) return code;
    }
    if (Date.now() > deadline) throw new Error(`no e-mailed set-up code for ${to}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
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

  /** Waits (up to `timeoutMs`) for a message to `to` whose subject matches. */
  async waitFor(to: string, subject: RegExp, timeoutMs = 5000): Promise<CapturedMail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find((message) => message.to === to && subject.test(message.subject));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no e-mail to ${to} matching ${subject}; got: ${this.messages.map((m) => `${m.to}: ${m.subject}`).join('; ')}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  close(): Promise<void> {
    running.delete(this);
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
