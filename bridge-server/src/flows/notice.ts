import { makeReplyToken } from '../core/ids.js';
import { NotFoundError } from '../core/errors.js';
import { buildNoticeMail } from '../core/notice-mail.js';
import type { Job } from '../core/records.js';
import type { RelayDeps } from './relay.js';

/**
 * Runs one mail.notice job: tells the solicitor, in the chat's thread, that a reply was not sent.
 * The notice is composed from stored facts only (the reply, its error, the time it failed), so a
 * retry sends the same bytes under the same Message-ID.
 */
export async function sendNotice(deps: RelayDeps & { templates: Array<{ name: string; language: string }> }, job: Job<'mail.notice'>): Promise<void> {
  const { conversation, record } = await deps.store.read(async (tx) => ({
    conversation: await deps.store.getConversation(tx, job.payload.conversationId),
    record: await deps.store.getOutbound(tx, job.payload.commandId),
  }));
  if (!conversation || !record) throw new NotFoundError(`reply ${job.payload.commandId} or its conversation is not in the store`);
  const mail = buildNoticeMail({
    tenant: deps.tenant,
    mailDomain: deps.mailDomain,
    mailbox: deps.mailbox,
    replyAddress: `wa+${makeReplyToken(deps.replySecret, conversation.chatToken)}@${deps.mailDomain}`,
    conversation,
    record,
    templates: deps.templates,
    timeZone: deps.timeZone,
  });
  const raw = await deps.composer.compose(mail);
  await deps.transport.send(raw, { from: deps.envelopeFrom, to: mail.to.map((a) => a.address) });
  await deps.store.transaction((tx) => deps.outbox.complete(tx, job.id));
}
