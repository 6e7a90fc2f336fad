import { Caption1, makeStyles, mergeClasses, tokens } from '@fluentui/react-components';
import type { DeliveryStatus, MessageItem, PendingReply } from '@wa-bridge/shared/api/conversations';
import { formatTime } from '../format.js';
import { AttachmentView } from './attachment.js';

const useStyles = makeStyles({
  row: { display: 'flex', flexDirection: 'column', alignItems: 'flex-start', marginBottom: tokens.spacingVerticalS },
  rowFirm: { alignItems: 'flex-end' },
  bubble: {
    maxWidth: '85%',
    padding: `${tokens.spacingVerticalXS} ${tokens.spacingHorizontalS}`,
    borderRadius: tokens.borderRadiusLarge,
    backgroundColor: tokens.colorNeutralBackground3,
    color: tokens.colorNeutralForeground1,
    overflowWrap: 'anywhere',
    whiteSpace: 'pre-wrap',
  },
  bubbleFirm: { backgroundColor: tokens.colorBrandBackground2, color: tokens.colorNeutralForeground1 },
  deleted: { fontStyle: 'italic', color: tokens.colorNeutralForeground3 },
  meta: { display: 'flex', gap: tokens.spacingHorizontalS, color: tokens.colorNeutralForeground3, marginTop: '2px', flexWrap: 'wrap' },
  sender: { fontWeight: tokens.fontWeightSemibold, color: tokens.colorNeutralForeground2 },
  quote: {
    borderLeft: `3px solid ${tokens.colorBrandStroke1}`,
    paddingLeft: tokens.spacingHorizontalS,
    marginBottom: tokens.spacingVerticalXS,
    color: tokens.colorNeutralForeground2,
  },
  mark: { fontStyle: 'italic' },
  read: { color: tokens.colorBrandForeground1, fontWeight: tokens.fontWeightSemibold },
  failed: { color: tokens.colorPaletteRedForeground1, fontWeight: tokens.fontWeightSemibold },
  system: { alignSelf: 'center', color: tokens.colorNeutralForeground3, fontStyle: 'italic', textAlign: 'center' },
  reactions: { marginTop: '2px' },
});

const ticks: Record<DeliveryStatus, { glyph: string; words: string }> = {
  queued: { glyph: '🕓', words: 'Queued' },
  sent: { glyph: '✓', words: 'Sent' },
  delivered: { glyph: '✓✓', words: 'Delivered' },
  read: { glyph: '✓✓', words: 'Read' },
  failed: { glyph: '!', words: 'Not delivered' },
};

export function DeliveryTicks({ status }: { status: DeliveryStatus }) {
  const styles = useStyles();
  const tick = ticks[status];
  return (
    // An image with a name: screen readers say "Read", not the glyphs, which are the same for Delivered.
    <span role="img" className={mergeClasses('ticks', status === 'read' && styles.read, status === 'failed' && styles.failed)} data-status={status} aria-label={tick.words} title={tick.words}>
      {tick.glyph}
    </span>
  );
}

/**
 * One message as a bubble: sender and time, a quoted message, the text, attachments, and marks for
 * edits and deletions (the record keeps both; the bubble says what happened). Reactions to it are
 * passed in and shown underneath.
 */
export function MessageBubble({ message, reactions }: { message: MessageItem; reactions: MessageItem[] }) {
  const styles = useStyles();
  const firm = message.sender.side === 'firm';
  const sender = message.sender.name ?? (firm ? 'Firm' : 'Client');

  if (message.kind === 'deletion') {
    return (
      <li className={mergeClasses(styles.row, 'event')} data-kind="deletion">
        <Caption1 className={styles.system}>
          {sender} deleted a message for everyone · {formatTime(message.sentAt)} (the archive keeps it)
        </Caption1>
      </li>
    );
  }

  const visibleReactions = reactions.filter((reaction) => reaction.emoji);
  return (
    <li className={mergeClasses(styles.row, firm && styles.rowFirm, 'bubble', firm ? 'outgoing' : 'incoming')} data-kind={message.kind} data-wa-id={message.waMessageId}>
      <div className={mergeClasses(styles.bubble, firm && styles.bubbleFirm)}>
        {message.quoted && (
          <blockquote className={mergeClasses(styles.quote, 'quote')} aria-label="Quoted message">
            <Caption1 className={styles.sender}>{message.quoted.senderName ?? 'Quoted'}</Caption1>
            <div dir="auto">{message.quoted.text ?? '(message not available)'}</div>
          </blockquote>
        )}
        {message.kind === 'edit' && <Caption1 className={styles.mark}>Edited to: </Caption1>}
        {message.attachments.map((attachment) => (
          <AttachmentView key={attachment.id} attachment={attachment} />
        ))}
        {/* dir="auto": an Arabic or Hebrew message runs right to left, its punctuation where the writer put it. */}
        {message.text && (
          <span dir="auto" className={mergeClasses('text', message.deleted && styles.deleted)}>
            {message.text}
          </span>
        )}
      </div>
      <div className={styles.meta}>
        <Caption1 className={styles.sender}>{sender}</Caption1>
        <Caption1>
          <time dateTime={message.sentAt}>{formatTime(message.sentAt)}</time>
        </Caption1>
        {message.edited && <Caption1 className={mergeClasses(styles.mark, 'edited')}>edited</Caption1>}
        {message.deleted && <Caption1 className={mergeClasses(styles.mark, 'deleted')}>deleted by the sender</Caption1>}
        {message.delivery && (
          <Caption1>
            <DeliveryTicks status={message.delivery.status} />
          </Caption1>
        )}
      </div>
      {visibleReactions.length > 0 && (
        <Caption1 className={styles.reactions} aria-label="Reactions">
          {visibleReactions.map((reaction) => `${reaction.emoji} ${reaction.sender.name ?? ''}`.trim()).join('  ')}
        </Caption1>
      )}
    </li>
  );
}

/** A reply accepted by the bridge that is not yet a WhatsApp message, or failed on the way. */
export function PendingBubble({ reply }: { reply: PendingReply }) {
  const styles = useStyles();
  const text = reply.template ? `Template: ${reply.template.name}` : reply.text;
  return (
    <li className={mergeClasses(styles.row, styles.rowFirm, 'bubble', 'pending')} data-state={reply.state}>
      <div className={mergeClasses(styles.bubble, styles.bubbleFirm)}>
        {text && (
          <span dir="auto" className="text">
            {text}
          </span>
        )}
        {reply.fileNames.map((name) => (
          <Caption1 key={name} as="p">
            📎 {name}
          </Caption1>
        ))}
      </div>
      <div className={styles.meta}>
        <Caption1 className={styles.sender}>{reply.author}</Caption1>
        <Caption1>
          <time dateTime={reply.createdAt}>{formatTime(reply.createdAt)}</time>
        </Caption1>
        <Caption1>{reply.state === 'failed' ? <span className={styles.failed}>Failed: {reply.error?.message ?? 'not sent'}</span> : <DeliveryTicks status="queued" />}</Caption1>
      </div>
    </li>
  );
}
