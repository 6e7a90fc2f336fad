import type { HistoryMessage } from '../store/sandbox-history.js';
import type { ClientMessage, PhoneMessage } from './routes.js';

/**
 * The phone pane's view of messages stored before the sandbox's current start, shaped as the
 * running sandbox shows the ones it sees go by: the client's as the page sent them, the firm's as
 * the simulator received them (see phoneMessageOf in start.ts).
 */

const mediaWithoutName = new Set(['image', 'video', 'audio', 'sticker']);

/** A message the client sent: its text or caption and its file's name. Undefined when it has neither. */
export function earlierClientMessage(message: HistoryMessage): ClientMessage | undefined {
  const { record } = message;
  if (record.event.kind !== 'message' || record.direction !== 'inbound') return undefined;
  const content = record.event.content;
  const text = content.type === 'text' ? content.body : 'media' in content ? content.media.caption : undefined;
  // WhatsApp gives a picture no file name: the phone names its type instead.
  const fileName = 'media' in content ? (content.media.fileName ?? `(${content.type})`) : undefined;
  if (!text && !fileName) return undefined;
  return { waMessageId: record.waMessageId, ...(text ? { text } : {}), ...(fileName ? { fileName } : {}), sentAt: record.receivedAt };
}

/** A message the firm sent to the client's phone, with the furthest delivery state WhatsApp reported. */
export function earlierFirmMessage(message: HistoryMessage): PhoneMessage | undefined {
  const { record } = message;
  if (record.event.kind !== 'message' || record.direction !== 'outbound') return undefined;
  const content = record.event.content;
  // As the Cloud API send goes: no caption on audio, a file name on documents only.
  const text = content.type === 'text' ? content.body : 'media' in content && content.type !== 'audio' ? content.media.caption : undefined;
  const fileName = content.type === 'document' ? content.media.fileName : mediaWithoutName.has(content.type) ? `(${content.type})` : undefined;
  return {
    waMessageId: record.waMessageId,
    type: content.type,
    ...(text ? { text } : {}),
    ...(fileName ? { fileName } : {}),
    sentAt: record.timestamp,
    state: phoneState(message.statuses),
  };
}

const stateRank: Record<PhoneMessage['state'], number> = { accepted: 0, sent: 1, delivered: 2, read: 3 };

/** The furthest of sent, delivered and read (statuses may come in any order); a failure shows no tick of its own. */
function phoneState(statuses: readonly string[]): PhoneMessage['state'] {
  let state: PhoneMessage['state'] = 'accepted';
  for (const status of statuses) {
    if ((status === 'sent' || status === 'delivered' || status === 'read') && stateRank[status] > stateRank[state]) state = status;
  }
  return state;
}
