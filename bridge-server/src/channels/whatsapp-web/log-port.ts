/**
 * The logger the session needs: pino's Logger fits it (app.ts passes a child logger with
 * `component: 'whatsapp-web'`). Fields carry ids and states only, never message content, names
 * or the QR string.
 */
export interface WebLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** The error's class and message, for a log line; the message of a library error names no content. */
export function describeError(error: unknown): { error: string } {
  if (error instanceof Error) return { error: `${error.name}: ${error.message}`.slice(0, 500) };
  return { error: String(error).slice(0, 500) };
}
