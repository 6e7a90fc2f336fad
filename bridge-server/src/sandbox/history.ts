import { makeReplyToken } from '../core/ids.js';
import { buildNoticeMail } from '../core/notice-mail.js';
import { DeterministicComposer } from '../mail/compose/composer.js';
import { pictureEvents, type HistoryMessage, type RelayedMail, type SandboxHistory } from '../store/sandbox-history.js';
import type { ClientMessage, PhoneMessage } from './routes.js';

/**
 * The phone pane's view of messages stored before the sandbox's current start, shaped as the
 * running sandbox shows the ones it sees go by: the client's as the page sent them, the firm's as
 * the simulator received them (see phoneMessageOf in start.ts).
 */

const pictureTypes = new Set(pictureEvents);
/** Media a phone names by their type when they come without a file name (WhatsApp gives only documents one). */
const namedByType = new Set(['video', 'audio', 'document']);

/**
 * How a phone shows a message's file: a photo or sticker as its picture (or says it was never
 * downloaded, when `missing`), any other file by its name or its type.
 */
export function phoneFile(type: string, fileName: string | undefined, missing = false): { fileName?: string; picture?: true } {
  if (pictureTypes.has(type)) return missing ? { fileName: `(${type === 'sticker' ? 'sticker' : 'photo'} not downloaded before the restart)` } : { picture: true };
  if (fileName) return { fileName };
  return namedByType.has(type) ? { fileName: `(${type})` } : {};
}

/** A message the client sent: its text or caption, its picture or its file's name. Undefined when it has none of them. */
export function earlierClientMessage(message: HistoryMessage): ClientMessage | undefined {
  const { record } = message;
  if (record.event.kind !== 'message' || record.direction !== 'inbound') return undefined;
  const content = record.event.content;
  const text = content.type === 'text' ? content.body : 'media' in content ? content.media.caption : undefined;
  const file = 'media' in content ? phoneFile(content.type, content.media.fileName, message.pictureMissing) : {};
  if (!text && !file.fileName && !file.picture) return undefined;
  return { waMessageId: record.waMessageId, ...(text ? { text } : {}), ...file, sentAt: record.receivedAt };
}

/** A message the firm sent to the client's phone, with the furthest delivery state WhatsApp reported. */
export function earlierFirmMessage(message: HistoryMessage): PhoneMessage | undefined {
  const { record } = message;
  if (record.event.kind !== 'message' || record.direction !== 'outbound') return undefined;
  const content = record.event.content;
  // As the Cloud API send goes: no caption on audio, a file name on documents only.
  const text = content.type === 'text' ? content.body : 'media' in content && content.type !== 'audio' ? content.media.caption : undefined;
  const file = 'media' in content ? phoneFile(content.type, content.type === 'document' ? content.media.fileName : undefined, message.pictureMissing) : {};
  return {
    waMessageId: record.waMessageId,
    type: content.type,
    ...(text ? { text } : {}),
    ...file,
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

export interface NoticeSettings {
  tenant: string;
  mailDomain: string;
  /** The firm mailbox the notices went to (the sandbox's). */
  mailbox: string;
  replySecret: Buffer;
  templates: Array<{ name: string; language: string }>;
  timeZone: string;
}

/**
 * The history with the notice mails of its failed replies among its mails, by the time each went.
 * A notice is composed from the stored reply when it is sent and its bytes are not kept, so it is
 * composed here again as the bridge composes it: the same bytes, unless the templates offered or
 * the firm's zone have changed since.
 */
export function withNoticeMails(history: SandboxHistory, settings: NoticeSettings, composer = new DeterministicComposer()): SandboxHistory {
  if (history.notices.length === 0) return history;
  const notices: RelayedMail[] = history.notices.flatMap(({ record, conversation }) => {
    const mail = buildNoticeMail({
      tenant: settings.tenant,
      mailDomain: settings.mailDomain,
      mailbox: settings.mailbox,
      replyAddress: `wa+${makeReplyToken(settings.replySecret, conversation.chatToken)}@${settings.mailDomain}`,
      conversation,
      record,
      templates: settings.templates,
      timeZone: settings.timeZone,
    });
    try {
      return [{ raw: composer.composeNow(mail), sentAt: record.updatedAt, to: mail.to.map((address) => address.address) }];
    } catch {
      // A notice the composer refuses now was refused when it was due, and never went: nothing to show.
      return [];
    }
  });
  // Sorted stably: a notice and the mails before it keep their order when their times are equal.
  const mails = [...history.mails, ...notices].sort((a, b) => a.sentAt - b.sentAt);
  return { ...history, mails };
}
