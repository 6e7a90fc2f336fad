import express, { type Router } from 'express';
import { z } from 'zod';
import type { StreamEvent } from '@wa-bridge/shared/api/stream';
import { canSeeConversation, canSeeMatter, managesHolds, type Principal } from '../core/access.js';
import { getConversation } from '../store/conversations.js';
import { conversationFacts, memberMatterIds } from '../store/matters.js';
import { principalOf } from '../auth/middleware.js';
import { audit, conversationTarget } from './audit.js';
import type { FeedChange } from './change-feed.js';
import { parseInput, type ApiDeps } from './context.js';
import { loadConversation, messageItems, summaryFacts } from './load.js';
import { iso, toPendingReply, toSummary } from './views.js';

const streamQuery = z.object({ conversation: z.coerce.number().int().positive().optional(), access_token: z.string().optional() });

/**
 * GET /api/stream: server-sent events of the conversations the user may see (or of one). Each
 * change is checked against the user's access when it happens, so a conversation unlinked from
 * their matter stops reaching them at once.
 */
export function streamRouter(deps: ApiDeps): Router {
  const router = express.Router();
  router.get('/', async (req, res) => {
    const principal = principalOf(res);
    const query = parseInput(streamQuery, req.query, 'stream query');
    const scoped = query.conversation === undefined ? undefined : (await loadConversation(deps, principal, { id: query.conversation })).conversation;
    // The stream pushes message text as it arrives: opening one is a read, recorded once.
    await audit(deps, req, res, { action: 'stream.open', ...(scoped ? { target: conversationTarget(scoped.chatToken) } : {}), details: { scope: scoped ? 'conversation' : 'all' } });

    res.status(200).set({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no', connection: 'keep-alive' });
    res.flushHeaders();
    let closed = false;
    const write = (event: StreamEvent) => {
      if (!closed) res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    };
    const unsubscribe = await deps.feed.subscribe(async (changes) => {
      for (const event of await toStreamEvents(deps, principal, query.conversation, changes)) write(event);
    });
    // A comment line now and then keeps proxies and load balancers from closing an idle stream.
    const ping = setInterval(() => !closed && res.write(': ping\n\n'), 25_000);
    ping.unref();
    // The stream must not outlive the token that opened it: end it then, and the client
    // reconnects with a fresh token (EventSource reconnects by itself; the 401 tells it to renew).
    const expiry = principal.expiresAt === undefined ? undefined : setTimeout(() => res.end(), Math.max(0, principal.expiresAt - deps.clock.now()));
    expiry?.unref();
    req.on('close', () => {
      closed = true;
      clearInterval(ping);
      if (expiry) clearTimeout(expiry);
      unsubscribe();
    });
    write({ type: 'ready', at: iso(deps.clock.now()) });
  });
  return router;
}

async function toStreamEvents(deps: ApiDeps, principal: Principal, only: number | undefined, changes: FeedChange[]): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  // Holds concern the compliance officers' lists, which follow the stream of all conversations.
  const holds = changes.filter((c) => c.type === 'holds');
  if (holds.length > 0 && only === undefined && managesHolds(principal)) out.push({ type: 'holds', at: iso(holds.at(-1)!.at) });
  // A retention change is for the view of one conversation, on its own stream, and for the view of
  // a matter, on the stream of all conversations.
  const retention = only !== undefined && changes.some((c) => c.type === 'retention' && c.conversationIds.includes(only));
  const matterIds = only !== undefined ? [] : [...new Set(changes.flatMap((c) => (c.type === 'retention' ? c.matterIds : [])))];
  const relevant = changes.filter((c): c is Exclude<FeedChange, { type: 'holds' | 'retention' }> => c.type !== 'holds' && c.type !== 'retention' && (only === undefined || c.conversationId === only));
  if (relevant.length === 0 && !retention && matterIds.length === 0) return out;
  const memberOf = await memberMatterIds(deps.db, principal.upn);
  for (const matterId of matterIds) if (canSeeMatter(principal, memberOf.has(matterId))) out.push({ type: 'matter', matterId });
  const visible = new Map<number, boolean>();
  for (const change of relevant) {
    let allowed = visible.get(change.conversationId);
    if (allowed === undefined) {
      allowed = canSeeConversation(principal, await conversationFacts(deps.db, change.conversationId), memberOf);
      visible.set(change.conversationId, allowed);
    }
    if (!allowed) continue;
    switch (change.type) {
      case 'message': {
        const conversation = await getConversation(deps.db, change.conversationId);
        if (!conversation) break;
        const [message] = await messageItems(deps, conversation, [change.event]);
        if (message) out.push({ type: 'message', conversationId: change.conversationId, message });
        break;
      }
      case 'delivery':
        out.push({ type: 'delivery', conversationId: change.conversationId, waMessageId: change.waMessageId, status: change.status, at: iso(change.at) });
        break;
      case 'reply':
        out.push({ type: 'reply', conversationId: change.conversationId, reply: toPendingReply(change.reply) });
        break;
      case 'conversation': {
        const conversation = await getConversation(deps.db, change.conversationId);
        if (!conversation) break;
        const facts = (await summaryFacts(deps, [{ conversation }])).get(conversation.id)!;
        out.push({ type: 'conversation', conversation: toSummary(conversation, facts) });
        break;
      }
    }
  }
  if (retention && canSeeConversation(principal, await conversationFacts(deps.db, only), memberOf)) out.push({ type: 'retention', conversationId: only });
  return out;
}
