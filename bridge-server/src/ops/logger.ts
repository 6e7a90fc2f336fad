import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/** Component names used in logs; one fixed list so logs can be filtered reliably. */
export type Component = 'app' | 'reply' | 'cloud-api' | 'whatsapp-web' | 'ingest' | 'outbox' | 'relay' | 'media' | 'smtp' | 'sandbox' | 'simulator' | 'http' | 'cli' | 'archive';

/**
 * JSON logs. Message content never reaches a log line: bodies, captions, names, file names,
 * contact cards, phone numbers, tokens and Authorization headers are redacted here, in one place. Correlate with
 * ids (conversationId, waMessageId, jobId, mailMessageId).
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'wa-bridge' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'body',
          '*.body',
          'text',
          '*.text',
          'caption',
          '*.caption',
          'fileName',
          '*.fileName',
          'contacts',
          '*.contacts',
          'name',
          '*.name',
          // Phone numbers and WhatsApp ids identify the client as surely as a name.
          'from',
          '*.from',
          'phone',
          '*.phone',
          'waId',
          '*.waId',
          'clientWaId',
          '*.clientWaId',
          'recipientId',
          '*.recipientId',
          'token',
          '*.token',
          'accessToken',
          '*.accessToken',
          'req.headers.authorization',
          'headers.authorization',
          'req.headers["x-hub-signature-256"]',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

export const componentLogger = (logger: Logger, component: Component): Logger => logger.child({ component });
