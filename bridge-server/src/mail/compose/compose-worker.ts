import { parentPort } from 'node:worker_threads';
import { isBridgeError } from '../../core/errors.js';
import type { OutgoingMail } from '../../core/mail.js';
import { DeterministicComposer } from './composer.js';
import type { ComposeReply, ComposeRequest } from './threaded-composer.js';

/**
 * Runs on the composer's worker thread: composes each mail it is sent and posts the bytes back.
 * It says `ready` once it listens, so the main thread knows its requests are being taken.
 */
const composer = new DeterministicComposer();
const port = parentPort;
if (!port) throw new Error('compose-worker runs on a worker thread only');

/** Structured cloning turns a Buffer into a plain Uint8Array; nodemailer wants Buffers. */
function revive(mail: OutgoingMail): OutgoingMail {
  return { ...mail, attachments: mail.attachments.map((a) => ({ ...a, content: Buffer.from(a.content.buffer, a.content.byteOffset, a.content.byteLength) })) };
}

port.on('message', (request: ComposeRequest) => {
  composer.compose(revive(request.mail)).then(
    (raw) => {
      // The bytes move to the main thread instead of being copied (raw owns its memory here).
      const bytes = raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength ? new Uint8Array(raw.buffer) : Uint8Array.prototype.slice.call(raw);
      const reply: ComposeReply = { id: request.id, raw: bytes };
      port.postMessage(reply, [bytes.buffer as ArrayBuffer]);
    },
    (error: unknown) => {
      const reply: ComposeReply = {
        id: request.id,
        error: isBridgeError(error) && error.status === 400
          ? { badInput: true, code: error.code, message: error.message }
          : { badInput: false, code: 'compose_failed', message: error instanceof Error ? error.message : String(error) },
      };
      port.postMessage(reply);
    },
  );
});
port.postMessage({ ready: true } satisfies ComposeReply);
