import { workerData } from 'node:worker_threads';
import { UpstreamError } from '../../core/errors.js';
import { serveRequests } from '../request-thread.js';
import { SmtpTransport, type SmtpOptions, type SmtpSendFailure, type SmtpSendRequest } from './smtp.js';

/**
 * Runs on the SMTP client's worker thread: one pool of connections, sending each mail it is given
 * and answering with the server's reply or the classified failure.
 */
const transport = new SmtpTransport(workerData as SmtpOptions);

/** Structured cloning turns a Buffer into a plain Uint8Array. */
const toBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

serveRequests<SmtpSendRequest, { response: string }, SmtpSendFailure>(
  async ({ raw, envelope }) => ({ answer: await transport.send(toBuffer(raw), envelope) }),
  (error) =>
    error instanceof UpstreamError
      ? { message: error.message, retry: error.retry, ...(error.upstreamStatus === undefined ? {} : { upstreamStatus: error.upstreamStatus }) }
      : { message: error instanceof Error ? error.message : String(error) },
);
