/** Where the notice goes: process.stdout in the service, a fake stream in tests. */
export interface NoticeOutput {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/** The part of Nest's Logger the notice uses. */
export interface NoticeLogger {
  warn(message: string): void;
}

/**
 * Tells the operator the secret of the admin client that development mode generated. It is the
 * only copy of the secret, so it must be easy to find: a person at a terminal gets it as plain
 * text set apart from the JSON log lines; a log collector (stdout not a terminal) gets it in the
 * usual JSON warn line. Both hold the words `with secret <secret>`, which the README's `grep`
 * looks for (in JSON the quotes around the id are escaped, so the pattern starts after them).
 */
export function announceGeneratedAdmin(
  logger: NoticeLogger,
  clientId: string,
  secret: string,
  out: NoticeOutput = process.stdout,
): void {
  if (out.isTTY) {
    out.write(
      `\n  No ADMIN_CLIENT_ID/ADMIN_CLIENT_SECRET set: created admin client "${clientId}" with secret ${secret}\n` +
        '  It is shown once: keep it (or set ADMIN_CLIENT_ID/ADMIN_CLIENT_SECRET to choose your own).\n\n',
    );
    logger.warn(`created admin client "${clientId}"; its secret was printed on the terminal, once`);
    return;
  }
  logger.warn(
    `No ADMIN_CLIENT_ID/ADMIN_CLIENT_SECRET set: created admin client "${clientId}" with secret ${secret} ` +
      '(shown once; set ADMIN_CLIENT_ID/ADMIN_CLIENT_SECRET to choose your own)',
  );
}
