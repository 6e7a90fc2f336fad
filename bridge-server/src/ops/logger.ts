import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/** Component names used in logs; one fixed list so logs can be filtered reliably. */
export type Component = 'app' | 'reply' | 'cloud-api' | 'whatsapp-web' | 'ingest' | 'outbox' | 'relay' | 'media' | 'smtp' | 'sandbox' | 'simulator' | 'http' | 'cli' | 'archive' | 'search';

/**
 * JSON logs. Message content never reaches a log line: bodies, captions, names, file names,
 * contact cards, phone numbers, tokens and Authorization headers are redacted here, in one place. Correlate with
 * ids (conversationId, waMessageId, jobId, mailMessageId).
 *
 * Fields are redacted by name; phone numbers are also taken out of every text of the finished
 * line (`redactPhoneNumbers`), since they turn up where no field name gives them away: a
 * WhatsApp Web chat id (`447700900123@c.us`), or a library's error message quoting one.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'wa-bridge' },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: { streamWrite: redactPhoneNumbers },
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

const censor = '[redacted]';
/** A JSON string in a log line (a key or a text): only these are searched, so JSON numbers stay numbers. */
const jsonText = /"(?:[^"\\]|\\.)*"/g;
/**
 * A WhatsApp chat or user id: the number before the suffix goes, the suffix stays. Also inside a
 * WhatsApp Web message id (`false_447700900123@c.us_3EB0…`), hence no word boundaries.
 */
const whatsappId = /(?<!\d)\d{5,20}(?::\d{1,3})?@(c\.us|s\.whatsapp\.net|lid|g\.us)(?![A-Za-z0-9])/g;
/** An international number as people write it: +44 7700 900123, +1 (415) 555-0100, +447700900123. */
const plusNumber = /\+\d(?:[ .()-]{0,2}\d){6,15}/g;
/**
 * A bare WhatsApp id (country code and number, 10 to 15 digits) standing alone: not part of a
 * longer word, nor a piece of a Message-ID or address (after `-`, `.` or `@`, before `-` or `@`, or
 * before a `.` that goes on), such as the digits-only last group of a UUID Message-ID or a
 * mailer's timestamp id (`1732700000000.12345@host`). A number that ends a sentence still goes.
 */
const bareNumber = /(?<![\w+.@-])\d{10,15}(?![\w@-]|\.\w)/g;
/** Cheap test before the search: nothing to do in a text without five digits in a row or a +digit. */
const mayHoldNumber = /\d{5}|\+\d/;

/**
 * The log line with every phone number in its texts replaced by `[redacted]`. ISO times, hashes,
 * Message-IDs and wamids do not match (their digits are short runs or part of longer words); a
 * Meta object id of 10 to 15 digits in a text is taken for a number and goes too.
 */
export function redactPhoneNumbers(line: string): string {
  if (!mayHoldNumber.test(line)) return line;
  return line.replace(jsonText, (text) =>
    mayHoldNumber.test(text) ? text.replace(whatsappId, `${censor}@$1`).replace(plusNumber, censor).replace(bareNumber, censor) : text,
  );
}
