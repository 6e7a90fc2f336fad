import express, { type Router } from 'express';
import { NotFoundError } from '../core/errors.js';
import { safeFileName, safeMimeType } from '../core/file-name.js';
import { principalOf } from '../auth/middleware.js';
import { getAttachment } from '../store/attachments.js';
import { getEvent } from '../store/events.js';
import { audit, conversationTarget } from './audit.js';
import { idOf, type ApiDeps } from './context.js';
import { loadConversation, messageItems } from './load.js';

/**
 * GET /api/attachments/:id: a file of a message, to users who may see its conversation. Sent as
 * an attachment with a safe name and nosniff, so a hostile file cannot run as a page of the bridge.
 */
export function attachmentsRouter(deps: ApiDeps): Router {
  const router = express.Router();
  router.get('/:id', async (req, res) => {
    const principal = principalOf(res);
    const attachment = await getAttachment(deps.db, idOf(req));
    const event = attachment ? await getEvent(deps.db, attachment.eventId) : undefined;
    if (!attachment || !event) throw new NotFoundError(`Attachment ${req.params.id} does not exist.`);
    const { conversation } = await loadConversation(deps, principal, { id: event.conversationId });
    if (!attachment.sha256) throw new NotFoundError(`Attachment ${attachment.id} has not been downloaded from WhatsApp yet; try again shortly.`);
    const bytes = await deps.blobs.get(attachment.sha256);
    await audit(deps, req, res, { action: 'media.read', target: conversationTarget(conversation.chatToken), details: { attachmentId: attachment.id, sha256: attachment.sha256 } });
    const [item] = await messageItems(deps, conversation, [event]);
    const name = safeFileName(item?.attachments.find((a) => a.id === attachment.id)?.fileName ?? attachment.fileName ?? 'attachment');
    res
      .status(200)
      .set({
        'content-type': safeMimeType(attachment.mimeType),
        'content-length': String(bytes.length),
        'content-disposition': `attachment; filename="${name.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`,
        'x-content-type-options': 'nosniff',
      })
      .end(bytes);
  });
  return router;
}
