import express, { type Router } from 'express';
import { randomUUID } from 'node:crypto';
import { replyRequestSchema } from '@wa-bridge/shared/api/conversations';
import type { OutboundCommand } from '../core/commands.js';
import { BadInputError, PayloadTooLargeError } from '../core/errors.js';
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
    const files: OutboundCommand['files'] = [];
    for (const [index, file] of body.files.entries()) {
      const bytes = Buffer.from(file.contentBase64, 'base64');
      if (bytes.length === 0) throw new BadInputError('bad_request', 'The reply is not valid.', [{ path: `files.${index}.contentBase64`, message: 'the file is empty' }]);
      if (bytes.length > deps.mediaMaxBytes) throw new PayloadTooLargeError(`${safeFileName(file.fileName)} is larger than the ${deps.mediaMaxBytes} bytes WhatsApp accepts.`);
      const sha256 = await deps.blobs.put(bytes);
      files.push({ fileName: safeFileName(file.fileName), mimeType: safeMimeType(file.mimeType), sha256, size: bytes.length });
    }
    const command: OutboundCommand = {
      conversationId: conversation.id,
      ...(body.text !== undefined ? { text: body.text } : {}),
      files,
      ...(body.quotedWaMessageId !== undefined ? { quotedWaMessageId: body.quotedWaMessageId } : {}),
      ...(body.template ? { template: body.template } : {}),
      author: { name: principal.name ?? principal.upn, address: principal.upn },
      // The same clientRef from the same user is one reply, however often the request is retried.
      source: { kind: 'api', ref: `${principal.id}:${body.clientRef ?? randomUUID()}` },
    };
    const accepted = await deps.reply(command);
    await audit(deps, req, res, {
      action: 'reply',
      target: conversationTarget(conversation.chatToken),
      details: { commandId: accepted.commandId, created: accepted.created, files: files.length, template: body.template?.name ?? null },
    });
    if (accepted.created) await deps.feed.notifyReply(accepted.commandId);
    const stored = await getOutbound(deps.db, accepted.commandId);
    res.status(202).json({ commandId: accepted.commandId, created: accepted.created, state: stored?.state ?? 'queued' });
  });
  return router;
}
