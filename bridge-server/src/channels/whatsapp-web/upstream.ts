import { OutcomeUnknownError, RunsElsewhereError, UpstreamError } from '../../core/errors.js';
import type { WebClient } from './client-port.js';

/**
 * How calls into WhatsApp Web fail, classified once for sending and media. The
 * library runs everything inside the browser page, so its failures are page errors: a closed or
 * crashed page is transient (the session reconnects and the job retries); an id WhatsApp Web
 * rejects is permanent, and retrying it would only repeat the refusal.
 */
export const service = 'whatsapp-web';

/** Messages WhatsApp Web and the library give for an id that names no chat or no account. */
const permanentPatterns = [/wid error/i, /invalid wid/i, /invalid serialized/i, /no lid for user/i, /not a valid (chat|user|wid)/i, /not registered/i];

export function classifyFailure(error: unknown, what: string): UpstreamError {
  if (error instanceof UpstreamError) return error;
  const text = error instanceof Error ? error.message : String(error);
  const permanent = permanentPatterns.some((pattern) => pattern.test(text));
  // The library's text names ids and page internals, never message content.
  const detail = text.split('\n')[0]?.slice(0, 200) ?? '';
  return new UpstreamError(service, `Could not ${what}: ${detail || 'WhatsApp Web failed'}.`, permanent ? 'permanent' : 'transient');
}

/** The ready client of the expected number, or the transient error that says why there is none. */
export function requireReady(session: SessionView, businessId: string, what: string): WebClient {
  const ready = session.readyClient();
  const status = session.status?.();
  if (!ready && status?.state === 'standby') {
    throw new RunsElsewhereError(`Could not ${what} here: ${status.standby ?? 'another bridge instance runs the WhatsApp Web session'}; it waits for that instance.`);
  }
  if (!ready) {
    throw new UpstreamError(service, `Could not ${what}: the WhatsApp Web session is not connected (see the admin page for its state); it will be tried again.`, 'transient');
  }
  if (ready.businessId !== businessId) {
    throw new UpstreamError(
      service,
      `Could not ${what}: it belongs to WhatsApp number ${businessId}, but the session is linked to ${ready.businessId}.`,
      'permanent',
    );
  }
  return ready.client;
}

/** What sending and media need from the session. */
export interface SessionView {
  readyClient(): { client: WebClient; businessId: string } | undefined;
  /** The session's state; 'standby' means another bridge instance runs it. */
  status?(): { state: string; standby?: string };
  /**
   * Runs a send the bridge makes, so the session can tell WhatsApp Web's echo of it (a
   * message_create for our own message) from a message someone typed on the phone.
   */
  trackSend?<T>(chatId: string, send: () => Promise<T>, idOf: (result: T) => string | undefined): Promise<T>;
}

/**
 * Rejects with a transient UpstreamError when `work` takes longer than `ms` (a hung page); with
 * `mayHaveHappened`, an OutcomeUnknownError (a send the page may still carry out).
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, what: string, mayHaveHappened = false): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    const message = `Could not ${what}: no answer from WhatsApp Web within ${ms} ms.`;
    timer = setTimeout(() => reject(mayHaveHappened ? new OutcomeUnknownError(service, message) : new UpstreamError(service, message, 'transient')), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
