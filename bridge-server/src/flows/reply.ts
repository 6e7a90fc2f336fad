import { outboundCommandSchema, type OutboundCommand } from '../core/commands.js';
import { BadInputError, NotFoundError, WindowClosedError } from '../core/errors.js';
import type { Clock, Store } from '../core/ports.js';
import { checkTemplateReply, templateTitle, type ApprovedTemplate } from '../core/templates.js';

/** WhatsApp's customer-service window: free-form messages only within 24 h of the client's last message. */
export const SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000;

export interface ReplyDeps {
  store: Store;
  clock: Clock;
  /** The approved templates: offered when the window is closed, and the only ones that may be sent. */
  templates: ApprovedTemplate[];
}

export interface ReplyAccepted {
  commandId: number;
  /** False when this source (the same email, say) had already been accepted. */
  created: boolean;
}

/**
 * Accepts a solicitor's reply: checks it can be sent (something to send; inside the Cloud API's
 * 24-hour window unless it is a template; a template only if approved, with one non-empty
 * parameter per variable), stores it and queues its wa.send job in one
 * transaction. Throws BadInputError, NotFoundError, or WindowClosedError (with the templates on
 * offer) before anything is stored.
 */
export async function submitReply(deps: ReplyDeps, input: OutboundCommand): Promise<ReplyAccepted> {
  const parsed = outboundCommandSchema.safeParse(input);
  if (!parsed.success) {
    throw new BadInputError(
      'bad_reply',
      'The reply is not valid.',
      parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    );
  }
  const command = parsed.data;
  if (!command.template && !command.text?.trim() && command.files.length === 0) {
    throw new BadInputError('empty_reply', 'The reply has no text and no files, so there is nothing to send to the client.');
  }
  if (command.template) checkTemplateReply(deps.templates, command.template);
  return deps.store.transaction(async (tx) => {
    const conversation = await deps.store.getConversation(tx, command.conversationId);
    if (!conversation) throw new NotFoundError(`Conversation ${command.conversationId} does not exist.`);
    if (conversation.channel === 'cloud-api' && !command.template) {
      const last = await deps.store.lastInboundAt(tx, conversation.id);
      const closesAt = last === null ? null : last + SERVICE_WINDOW_MS;
      if (closesAt === null || closesAt <= deps.clock.now()) {
        throw new WindowClosedError(windowClosedMessage(closesAt, deps.templates), deps.templates, closesAt);
      }
    }
    const stored = await deps.store.insertOutbound(tx, command);
    if (stored.created) {
      await deps.store.enqueue(tx, {
        kind: 'wa.send',
        payload: { conversationId: conversation.id, commandId: stored.id },
        conversationId: conversation.id,
        lane: 'whatsapp',
        sortKey: conversation.lastSeq,
      });
    }
    return { commandId: stored.id, created: stored.created };
  });
}

export function windowClosedMessage(closedAt: number | null, templates: ApprovedTemplate[]): string {
  const when = closedAt === null ? 'the client has not written yet' : `it closed at ${new Date(closedAt).toISOString().replace('.000Z', 'Z')}`;
  const offer =
    templates.length > 0
      ? ` Send one of the approved templates instead: ${templates.map(templateTitle).join(', ')}.`
      : ' No approved templates are configured (WA_BRIDGE_TEMPLATES); ask the client to message the firm first.';
  return `WhatsApp only accepts a free-form reply within 24 hours of the client's last message, and ${when}.${offer}`;
}
