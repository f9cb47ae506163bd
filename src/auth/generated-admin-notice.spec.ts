import { NestPinoLogger, createRootLogger } from '../logging/logger';
import { announceGeneratedAdmin, type NoticeOutput } from './generated-admin-notice';
import { newSecret } from './secret-hash';

/** The README's `grep -o 'with secret [A-Za-z0-9_-]*' … | cut -d' ' -f3`, as a regular expression. */
const README_GREP = /with secret ([A-Za-z0-9_-]*)/;

/** A terminal (or not) whose writes are kept. */
function output(isTTY: boolean): NoticeOutput & { text: () => string } {
  const chunks: string[] = [];
  return { isTTY, write: (text: string) => chunks.push(text), text: () => chunks.join('') };
}

/** Nest's logger over the service's real pino JSON logger, its raw lines kept. */
function jsonLogger() {
  const raw: string[] = [];
  const pino = createRootLogger(
    { logLevel: 'log', logFormat: 'json' },
    { write: (l: string) => raw.push(l) },
  );
  const nest = new NestPinoLogger(pino);
  return { logger: { warn: (m: string) => nest.warn(m, 'ClientsService') }, text: () => raw.join('') };
}

describe(announceGeneratedAdmin.name, () => {
  const secret = newSecret();

  it('on a terminal prints the secret as plain text, and the JSON log line leaves it out', () => {
    const out = output(true);
    const log = jsonLogger();
    announceGeneratedAdmin(log.logger, 'admin', secret, out);

    expect(out.text()).toContain(`created admin client "admin" with secret ${secret}\n`);
    expect(out.text()).not.toMatch(/^\s*\{/); // not a JSON line
    expect(README_GREP.exec(out.text())?.[1]).toBe(secret);
    expect(log.text()).toContain('created admin client');
    expect(log.text()).not.toContain(secret);
  });

  it('when stdout is not a terminal writes one JSON warn line that the README grep finds', () => {
    const out = output(false);
    const log = jsonLogger();
    announceGeneratedAdmin(log.logger, 'admin', secret, out);

    expect(out.text()).toBe('');
    const line = JSON.parse(log.text()) as { level: number; context: string; msg: string };
    expect(line).toMatchObject({ level: 40, context: 'ClientsService' });
    expect(line.msg).toContain(`created admin client "admin" with secret ${secret}`);
    expect(README_GREP.exec(log.text())?.[1]).toBe(secret);
  });
});
