import type { OutboundCommand } from '../core/commands.js';
import type { ChannelKind, Content, InboundEvent, MediaType } from '../core/events.js';
import { NotFoundError, UpstreamError, WindowClosedError } from '../core/errors.js';
import type { BlobStore, Channel, Clock, Outbox, OutboundMessage, SendReceipt, Store, Tx } from '../core/ports.js';
import { partCallbackData, type ConversationRecord, type Job, type OutboundRecord } from '../core/records.js';
import { applyStatus, ingestInTransaction } from './ingest.js';

export interface SendDeps {
  store: Store;
  outbox: Outbox;
  blobs: BlobStore;
  clock: Clock;
  tenant: string;
  channels: Partial<Record<ChannelKind, Channel>>;
}

/** One WhatsApp message of a reply: the text, or one file (with the text as its caption), or a template. */
interface Part {
  text?: string;
  file?: OutboundCommand['files'][number];
  template?: NonNullable<OutboundCommand['template']>;
}

/** WhatsApp's caption limit; longer text goes as its own message before the files. */
const CAPTION_LIMIT = 1024;

export function planParts(command: OutboundCommand): Part[] {
  if (command.template) return [{ template: command.template }];
  const text = command.text?.trim() || undefined;
  if (command.files.length === 0) return text ? [{ text }] : [];
  const captioned = text !== undefined && text.length <= CAPTION_LIMIT;
  const parts: Part[] = !captioned && text ? [{ text }] : [];
  command.files.forEach((file, i) => parts.push({ file, ...(captioned && i === 0 ? { text } : {}) }));
  return parts;
}

/**
 * Runs one wa.send job: sends the reply's parts not yet sent, in order, and after each records the
 * part and its outbound event (chain link and mirrored mail) in one transaction, so a retry
 * resumes after the last recorded part. A refusal WhatsApp gives for good (window closed, bad
 * number) marks the reply failed and queues a notice to the solicitor; transient trouble throws
 * for the worker to retry.
 */
export async function sendOutbound(deps: SendDeps, job: Job<'wa.send'>): Promise<void> {
  const { record, conversation } = await deps.store.read(async (tx) => {
    const record = await deps.store.getOutbound(tx, job.payload.commandId);
    const conversation = await deps.store.getConversation(tx, job.payload.conversationId);
    if (!record || !conversation) throw new NotFoundError(`reply ${job.payload.commandId} or its conversation is not in the store`);
    return { record, conversation };
  });
  if (record.state !== 'queued') return deps.store.transaction((tx) => deps.outbox.complete(tx, job.id));

  const channel = deps.channels[conversation.channel];
  const parts = planParts(record.command);
  try {
    if (!channel) throw new UpstreamError(conversation.channel, `the ${conversation.channel} channel is not configured on this bridge, so replies in this chat cannot be sent`, 'permanent');
    for (let index = record.parts.length; index < parts.length; index += 1) {
      const part = parts[index]!;
      const message = await toMessage(deps, conversation, record, part, index);
      // Only a job run before can have handed this part over already.
      const earlier = job.attempts > 1 ? await handedOver(deps, channel, conversation, record, message, index) : undefined;
      const receipt = earlier?.receipt ?? (await channel.send(message));
      const failed = await deps.store.transaction(async (tx) => {
        await deps.store.addOutboundPart(tx, record.id, index, receipt.waMessageId, receipt.timestamp);
        await ingestInTransaction(deps, tx, { events: [toEvent(conversation, record, part, index, receipt, earlier?.foundBy)], statuses: [] });
        // Statuses WhatsApp posted before this part was recorded were stored but found no part.
        for (const status of await deps.store.listStatuses(tx, deps.tenant, conversation.channel, receipt.waMessageId)) await applyStatus(deps, tx, status);
        // A failure WhatsApp reported for a part already sent (its status webhook may come while
        // the next part is on its way) has failed the reply and told the solicitor: the rest is
        // not sent, and the reply stays failed.
        const failed = (await deps.store.getOutbound(tx, record.id))?.state === 'failed';
        if (failed || index === parts.length - 1) await finish(deps, tx, record.id, job.id, failed ? 'failed' : 'sent');
        return failed;
      });
      if (failed) return;
    }
    if (parts.length === 0) await deps.store.transaction((tx) => finish(deps, tx, record.id, job.id, 'sent'));
  } catch (error) {
    const refusal = permanentRefusal(error);
    if (!refusal) throw error;
    await deps.store.transaction(async (tx) => {
      await deps.store.setOutboundState(tx, record.id, 'failed', refusal);
      await deps.store.enqueue(tx, { kind: 'mail.notice', payload: { conversationId: conversation.id, commandId: record.id }, conversationId: conversation.id, sortKey: 0 });
      await deps.outbox.complete(tx, job.id);
    });
  }
}

/**
 * A part an earlier run of the job may have handed to WhatsApp without recording it: the process
 * died between the send and its commit, or the answer timed out after WhatsApp had taken the
 * message. Found through a status WhatsApp posted with the part's callback data (Cloud API), else
 * in the chat itself when the channel can look back; a message some reply already recorded as its
 * own part is never taken. Undefined when nothing shows the part went: it is then sent.
 */
async function handedOver(
  deps: SendDeps,
  channel: Channel,
  conversation: ConversationRecord,
  record: OutboundRecord,
  message: OutboundMessage,
  index: number,
): Promise<{ receipt: SendReceipt; foundBy: 'status' | 'chat' } | undefined> {
  const unrecorded = (waMessageId: string) => deps.store.read(async (tx) => !(await deps.store.isOutboundPart(tx, waMessageId)));
  const byStatus = await deps.store.read((tx) => deps.store.findStatusByCallback(tx, deps.tenant, conversation.channel, partCallbackData(record.id, index)));
  if (byStatus && (await unrecorded(byStatus.waMessageId))) return { receipt: byStatus, foundBy: 'status' };
  for (const receipt of (await channel.findSent?.(message, record.createdAt)) ?? []) {
    if (await unrecorded(receipt.waMessageId)) return { receipt, foundBy: 'chat' };
  }
  return undefined;
}

/** Completes the send job; a reply whose parts all went is `sent`, one already failed stays so. */
async function finish(deps: SendDeps, tx: Tx, commandId: number, jobId: number, state: 'sent' | 'failed'): Promise<void> {
  if (state === 'sent') await deps.store.setOutboundState(tx, commandId, 'sent');
  await deps.outbox.complete(tx, jobId);
}

function permanentRefusal(error: unknown): { code: string; message: string } | undefined {
  if (error instanceof WindowClosedError) return { code: error.code, message: error.message };
  if (error instanceof UpstreamError && error.retry === 'permanent') return { code: 'send_refused', message: error.message };
  return undefined;
}

async function toMessage(deps: SendDeps, conversation: ConversationRecord, record: OutboundRecord, part: Part, index: number): Promise<OutboundMessage> {
  const to = conversation.clientWaId ?? conversation.clientUserId;
  if (!to) throw new UpstreamError(conversation.channel, 'the chat has no address WhatsApp can send to', 'permanent');
  return {
    to,
    businessId: conversation.businessId,
    ...(part.text ? { text: part.text } : {}),
    files: part.file ? [{ fileName: part.file.fileName, mimeType: part.file.mimeType, bytes: await deps.blobs.get(part.file.sha256) }] : [],
    ...(index === 0 && record.command.quotedWaMessageId ? { quotedWaMessageId: record.command.quotedWaMessageId } : {}),
    ...(part.template ? { template: part.template } : {}),
    callbackData: partCallbackData(record.id, index),
  };
}

function mediaTypeOf(mimeType: string): MediaType {
  if (/^image\/(jpeg|png)$/.test(mimeType)) return 'image';
  if (/^video\/(mp4|3gpp)$/.test(mimeType)) return 'video';
  if (/^audio\//.test(mimeType)) return 'audio';
  return 'document';
}

function toContent(part: Part): Content {
  if (part.template) {
    const parameters = part.template.parameters.length > 0 ? `: ${part.template.parameters.join(' | ')}` : '';
    return { type: 'text', body: `[WhatsApp template ${part.template.name} (${part.template.language})${parameters}]` };
  }
  if (part.file) {
    return {
      type: mediaTypeOf(part.file.mimeType),
      media: {
        waMediaId: `stored:${part.file.sha256}`,
        mimeType: part.file.mimeType,
        fileName: part.file.fileName,
        ...(part.text ? { caption: part.text } : {}),
        storedSha256: part.file.sha256,
        storedSize: part.file.size,
      },
    };
  }
  return { type: 'text', body: part.text ?? '' };
}

/** The sent part as an archived event of the chat: direction outbound, written by the solicitor. */
function toEvent(
  conversation: ConversationRecord,
  record: OutboundRecord,
  part: Part,
  index: number,
  receipt: { waMessageId: string; timestamp: number },
  foundBy?: 'status' | 'chat',
): InboundEvent {
  return {
    kind: 'message',
    channel: conversation.channel,
    business: { id: conversation.businessId, ...(conversation.businessDisplayNumber ? { displayNumber: conversation.businessDisplayNumber } : {}) },
    client: {
      ...(conversation.clientWaId ? { waId: conversation.clientWaId } : {}),
      ...(conversation.clientUserId ? { userId: conversation.clientUserId } : {}),
      ...(conversation.clientName ? { name: conversation.clientName } : {}),
    },
    waMessageId: receipt.waMessageId,
    versionKey: '',
    timestamp: receipt.timestamp,
    direction: 'outbound',
    author: { id: record.command.author.address, name: record.command.author.name },
    content: toContent(part),
    ...(index === 0 && record.command.quotedWaMessageId ? { quoted: { waMessageId: record.command.quotedWaMessageId } } : {}),
    // foundBy: the part was not sent by this run but found already sent (see handedOver).
    raw: { replyId: record.id, part: index, source: record.command.source, ...(foundBy ? { foundBy } : {}) },
  };
}
