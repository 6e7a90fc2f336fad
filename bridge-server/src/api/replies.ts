import express, { type Router } from 'express';
import { randomUUID } from 'node:crypto';
import { replyRequestSchema } from '@wa-bridge/shared/api/conversations';
import type { z } from 'zod';
import type { OutboundCommand } from '../core/commands.js';
import { BadInputError, ConflictError, NotFoundError, PayloadTooLargeError } from '../core/errors.js';
import { safeFileName, safeMimeType } from '../core/file-name.js';
import { principalOf } from '../auth/middleware.js';
import { getOutbound } from '../store/outbound.js';
import { audit, conversationTarget } from './audit.js';
import { idOf, parseInput, type ApiDeps } from './context.js';
import { loadConversationToAct } from './load.js';

/**
 * POST /api/conversations/:id/replies: a reply from the add-in or the Teams tab. Files arrive as
 * base64 in the JSON body and go to the blob store; the command then takes the same road as an
 * email reply (flows/reply.ts): checked against the 24-hour window, stored, queued, sent by the
 * channel and mirrored into the mailbox thread.
 */
export function repliesRouter(deps: ApiDeps): Router {
  const router = express.Router({ mergeParams: true });
  router.post('/:id/replies', async (req, res) => {
    const principal = principalOf(res);
    const { conversation } = await loadConversationToAct(deps, principal, idOf(req), 'reply to the client');
    const body = parseInput(replyRequestSchema, req.body, 'reply');
    const author = { name: principal.name ?? principal.upn, address: principal.upn };
    // The same clientRef from the same user is one reply, however often the request is retried; a
    // failed reply is sent again once, whoever asks first and however often.
    const source = { kind: 'api' as const, ref: body.resendOf === undefined ? `${principal.id}:${body.clientRef ?? randomUUID()}` : `resend:${body.resendOf}` };
    const command: OutboundCommand = body.resendOf === undefined ? await commandOf(deps, conversation.id, body, author, source) : await sentAgain(deps, conversation.id, body.resendOf, author, source);
    const accepted = await deps.reply(command);
    await audit(deps, req, res, {
      action: 'reply',
      target: conversationTarget(conversation.chatToken),
      details: { commandId: accepted.commandId, created: accepted.created, files: command.files.length, template: command.template?.name ?? null, ...(body.resendOf === undefined ? {} : { resendOf: body.resendOf }) },
    });
    if (accepted.created) await deps.feed.notifyReply(accepted.commandId);
    const stored = await getOutbound(deps.db, accepted.commandId);
    res.status(202).json({ commandId: accepted.commandId, created: accepted.created, state: stored?.state ?? 'queued' });
  });
  return router;
}

type Author = OutboundCommand['author'];
type ReplyRequestBody = z.output<typeof replyRequestSchema>;
type Source = OutboundCommand['source'];

/** A new reply as the request gives it: its files go to the blob store first. */
async function commandOf(deps: ApiDeps, conversationId: number, body: ReplyRequestBody, author: Author, source: Source): Promise<OutboundCommand> {
  const files: OutboundCommand['files'] = [];
  for (const [index, file] of body.files.entries()) {
    const bytes = Buffer.from(file.contentBase64, 'base64');
    if (bytes.length === 0) throw new BadInputError('bad_request', 'The reply is not valid.', [{ path: `files.${index}.contentBase64`, message: 'the file is empty' }]);
    if (bytes.length > deps.mediaMaxBytes) throw new PayloadTooLargeError(`${safeFileName(file.fileName)} is larger than the ${deps.mediaMaxBytes} bytes WhatsApp accepts.`);
    const sha256 = await deps.blobs.put(bytes);
    files.push({ fileName: safeFileName(file.fileName), mimeType: safeMimeType(file.mimeType), sha256, size: bytes.length });
  }
  return {
    conversationId,
    ...(body.text !== undefined ? { text: body.text } : {}),
    files,
    ...(body.quotedWaMessageId !== undefined ? { quotedWaMessageId: body.quotedWaMessageId } : {}),
    ...(body.template ? { template: body.template } : {}),
    author,
    source,
  };
}

/**
 * A failed reply of this conversation, as it was: its text, its files (still in the blob store
 * under their hashes), its quote and its template with the parameters. The person who sends it
 * again is its author now; the one it copies stays on record as failed.
 */
async function sentAgain(deps: ApiDeps, conversationId: number, commandId: number, author: Author, source: Source): Promise<OutboundCommand> {
  const failed = await getOutbound(deps.db, commandId);
  if (!failed || failed.conversationId !== conversationId) throw new NotFoundError(`Reply ${commandId} is not one of this conversation's replies.`);
  if (failed.state !== 'failed') throw new ConflictError('not_failed', `Reply ${commandId} did not fail (it is ${failed.state}): there is nothing to send again.`);
  const { text, files, quotedWaMessageId, template } = failed.command;
  return { conversationId, ...(text !== undefined ? { text } : {}), files, ...(quotedWaMessageId !== undefined ? { quotedWaMessageId } : {}), ...(template ? { template } : {}), author, source };
}
