import type { ConversationDetail, MessageItem } from '@wa-bridge/shared/api/conversations';
import type { ConversationRetention } from '@wa-bridge/shared/api/holds';
import { canActOnConversation, canSeeConversation, type ConversationFacts, type Principal } from '../core/access.js';
import { ForbiddenError, NotFoundError } from '../core/errors.js';
import type { AttachmentRecord, ConversationRecord, EventRecord } from '../core/records.js';
import { decideRetention } from '../core/retention.js';
import { getConversation, getConversationByToken } from '../store/conversations.js';
import { changedMessageIds, deliveryOf, lastActivityAt } from '../store/conversation-views.js';
import { findMessageByWaId } from '../store/events.js';
import { conversationFacts, getAssignees, listLinks, memberMatterIds } from '../store/matters.js';
import { lastInboundAt } from '../store/outbound.js';
import { listHolds, listRetentionFacts } from '../store/retention.js';
import type { ApiDeps } from './context.js';
import { iso, toDetail, toLegalHold, toMessageItem, toWindowState, type SummaryFacts } from './views.js';

export interface LoadedConversation {
  conversation: ConversationRecord;
  facts: ConversationFacts;
  memberOf: Set<number>;
}

/** Loads a conversation the user may see; 404 when it does not exist, 403 when it is not theirs. */
export async function loadConversation(deps: ApiDeps, principal: Principal, ref: { id: number } | { chatId: string }): Promise<LoadedConversation> {
  const conversation = 'id' in ref ? await getConversation(deps.db, ref.id) : /^[a-z2-7]{26}$/.test(ref.chatId) ? await getConversationByToken(deps.db, ref.chatId) : undefined;
  const name = 'id' in ref ? `Conversation ${ref.id}` : 'No conversation with that chat id';
  if (!conversation) throw new NotFoundError('id' in ref ? `${name} does not exist.` : `${name} exists (check the X-WhatsApp-Chat-Id header).`);
  const facts = await conversationFacts(deps.db, conversation.id);
  const memberOf = await memberMatterIds(deps.db, principal.upn);
  if (!canSeeConversation(principal, facts, memberOf)) {
    throw new ForbiddenError(
      'conversation_forbidden',
      facts.matterIds.length > 0
        ? `Conversation ${conversation.id} belongs to matters you are not on.`
        : `Conversation ${conversation.id} is not linked to a matter${principal.roles.includes('Solicitor') ? ' or assigned to you' : ''} yet; ask an admin to link or assign it.`,
    );
  }
  return { conversation, facts, memberOf };
}

/** The same, for changes: replies, links and assignment are refused to read-only roles. */
export async function loadConversationToAct(deps: ApiDeps, principal: Principal, id: number, action: string): Promise<LoadedConversation> {
  const loaded = await loadConversation(deps, principal, { id });
  if (!canActOnConversation(principal, loaded.facts, loaded.memberOf)) {
    throw new ForbiddenError('read_only', `You may read conversation ${id} but not ${action}: that needs the Solicitor or CaseHandler role on its matter, or Admin.`);
  }
  return loaded;
}

export async function summaryFacts(deps: ApiDeps, conversations: Array<{ conversation: ConversationRecord; lastActivityAt?: number }>): Promise<Map<number, SummaryFacts>> {
  const ids = conversations.map((c) => c.conversation.id);
  const links = await listLinks(deps.db, ids, true);
  const assignees = await getAssignees(deps.db, ids);
  const now = deps.clock.now();
  const out = new Map<number, SummaryFacts>();
  for (const { conversation, lastActivityAt: known } of conversations) {
    out.set(conversation.id, {
      links: links.filter((l) => l.conversationId === conversation.id),
      assignee: assignees.get(conversation.id) ?? null,
      window: toWindowState(conversation.channel, await lastInboundAt(deps.db, conversation.id), now, deps.templates),
      lastActivityAt: known ?? (await lastActivityAt(deps.db, conversation)),
    });
  }
  return out;
}

export async function detailOf(deps: ApiDeps, principal: Principal, loaded: LoadedConversation): Promise<ConversationDetail> {
  const facts = (await summaryFacts(deps, [{ conversation: loaded.conversation }])).get(loaded.conversation.id)!;
  const act = canActOnConversation(principal, loaded.facts, loaded.memberOf);
  return toDetail(loaded.conversation, facts, { reply: act, link: act, assign: act }, await retentionOf(deps, loaded.conversation.id));
}

/**
 * How long the archive keeps a conversation and the holds that keep it now: the daily retention
 * run's own decision, read by the people working it so a hold or a closing date is no surprise.
 */
async function retentionOf(deps: ApiDeps, conversationId: number): Promise<ConversationRetention> {
  const [facts] = await listRetentionFacts(deps.db, [conversationId]);
  if (!facts) throw new NotFoundError(`Conversation ${conversationId} does not exist.`);
  // The facts name the holds in force; their full rows are read only when there are any, as for few conversations.
  const holds = facts.holds.length === 0 ? [] : await listHolds(deps.db, false, { covering: conversationId });
  const decision = decideRetention(facts, deps.retention, deps.clock.now());
  const { basis } = decision;
  return {
    basis: basis.kind,
    keptUntil: decision.retainUntil === null ? null : iso(decision.retainUntil),
    matter: 'matter' in basis ? basis.matter : null,
    years: 'years' in basis ? basis.years : null,
    matterType: basis.kind === 'matter_closed' ? basis.matterType : null,
    holds: holds.map(toLegalHold),
  };
}

/** Bubbles for these events of one conversation, with files, quotes, edit marks and delivery. */
export async function messageItems(deps: ApiDeps, conversation: ConversationRecord, events: EventRecord[]): Promise<MessageItem[]> {
  if (events.length === 0) return [];
  const attachmentRows = await deps.db.selectFrom('attachments').selectAll().where('event_id', 'in', events.map((e) => e.id)).orderBy('ordinal').execute();
  const attachments = new Map<number, AttachmentRecord[]>();
  for (const row of attachmentRows) {
    const list = attachments.get(row.event_id) ?? [];
    list.push({ id: row.id, eventId: row.event_id, ordinal: row.ordinal, waMediaId: row.wa_media_id, mimeType: row.mime_type, fileName: row.file_name, announcedSha256: row.announced_sha256, sha256: row.sha256, size: row.size });
    attachments.set(row.event_id, list);
  }
  const quoted = new Map<string, EventRecord>();
  for (const event of events) {
    const id = event.event.kind === 'message' ? event.event.quoted?.waMessageId : undefined;
    if (id && !quoted.has(id)) {
      const found = await findMessageByWaId(deps.db, conversation.id, id);
      if (found) quoted.set(id, found);
    }
  }
  const { edited, deleted } = await changedMessageIds(deps.db, conversation.id);
  const delivery = await deliveryOf(deps.db, events.filter((e) => e.direction === 'outbound').map((e) => e.waMessageId));
  return events.map((event) => toMessageItem(event, { conversation, attachments, quoted, edited, deleted, delivery }));
}
