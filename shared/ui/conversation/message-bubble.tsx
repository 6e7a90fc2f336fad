import { Button, Caption1, makeStyles, mergeClasses, tokens } from '@fluentui/react-components';
import { ApiError } from '@wa-bridge/shared/api/client';
import type { DeliveryStatus, MessageItem, PendingReply, ReplyAccepted, WindowState } from '@wa-bridge/shared/api/conversations';
import { useId, useRef, useState } from 'react';
import { useSession } from '../api-context.js';
import { describeError, formatTime } from '../format.js';
import { listStyles } from '../list-styles.js';
import { AttachmentView } from './attachment.js';
import { ContactCards, LocationCard } from './shared-content.js';

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
  // The quote as it looks, a button only to the pointer and the keyboard.
  quoteButton: {
    display: 'block',
    width: '100%',
    padding: 0,
    border: 'none',
    backgroundColor: 'transparent',
    color: 'inherit',
    font: 'inherit',
    textAlign: 'inherit',
    cursor: 'pointer',
    ':focus-visible': { outline: `2px solid ${tokens.colorStrokeFocus2}`, outlineOffset: '2px' },
  },
  // As small as the time beside it: the action is there for every message, and the pane is narrow.
  quoteAction: { minWidth: 0, height: 'auto', padding: `0 ${tokens.spacingHorizontalXS}`, fontSize: tokens.fontSizeBase200, color: tokens.colorBrandForegroundLink },
  /** The message a search opened the conversation at. */
  found: {
    outline: `2px solid ${tokens.colorBrandStroke1}`,
    outlineOffset: '2px',
    borderRadius: tokens.borderRadiusLarge,
    ':focus-visible': { outline: `2px solid ${tokens.colorStrokeFocus2}` },
  },
});

function QuoteContent({ quoted }: { quoted: NonNullable<MessageItem['quoted']> }) {
  const styles = useStyles();
  return (
    <>
      <Caption1 className={styles.sender} dir="auto">
        {quoted.senderName ?? 'Quoted'}
      </Caption1>
      <div dir="auto">{quoted.text ?? '(message not available)'}</div>
    </>
  );
}

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
export function MessageBubble({
  message,
  reactions,
  found,
  onQuote,
  onShowQuoted,
}: {
  message: MessageItem;
  reactions: MessageItem[];
  found?: string | undefined;
  /** Quote this message in the next reply. */
  onQuote?: (() => void) | undefined;
  /** Show the message this one quotes, by its WhatsApp id. */
  onShowQuoted?: ((waMessageId: string) => void) | undefined;
}) {
  const styles = useStyles();
  const list = listStyles();
  const firm = message.sender.side === 'firm';
  const sender = message.sender.name ?? (firm ? 'Firm' : 'Client');

  if (message.kind === 'deletion') {
    return (
      <li className={mergeClasses(styles.row, 'event', found !== undefined && styles.found)} data-kind="deletion" data-message-id={message.id} {...foundMark(found)}>
        <Caption1 className={styles.system}>
          <bdi>{sender}</bdi> deleted a message for everyone · {formatTime(message.sentAt)} (the archive keeps it)
        </Caption1>
      </li>
    );
  }

  const visibleReactions = reactions.filter((reaction) => reaction.emoji);
  return (
    <li
      className={mergeClasses(styles.row, firm && styles.rowFirm, 'bubble', firm ? 'outgoing' : 'incoming', found !== undefined && styles.found)}
      data-kind={message.kind}
      data-wa-id={message.waMessageId}
      data-message-id={message.id}
      {...foundMark(found)}
    >
      <div className={mergeClasses(styles.bubble, firm && styles.bubbleFirm)}>
        {message.quoted && (
          <blockquote className={mergeClasses(styles.quote, 'quote')} aria-label="Quoted message">
            {onShowQuoted ? (
              // The quote leads to the message it quotes, as in WhatsApp.
              // Its name is the quote as shown, after what it does (WCAG 2.5.3: the visible words are in the name).
              <button type="button" className={mergeClasses(styles.quoteButton, 'show-quoted')} onClick={() => onShowQuoted(message.quoted!.waMessageId)}>
                <span className={list.spoken}>Show the quoted message: </span>
                <QuoteContent quoted={message.quoted} />
              </button>
            ) : (
              <QuoteContent quoted={message.quoted} />
            )}
          </blockquote>
        )}
        {message.kind === 'edit' && <Caption1 className={styles.mark}>Edited to: </Caption1>}
        {message.attachments.map((attachment) => (
          <AttachmentView key={attachment.id} attachment={attachment} />
        ))}
        {/* A shared location or contact shows as cards with working links; `text` is the same as plain words. */}
        {message.location && <LocationCard location={message.location} />}
        {message.contacts && <ContactCards contacts={message.contacts} />}
        {/* dir="auto": an Arabic or Hebrew message runs right to left, its punctuation where the writer put it. */}
        {message.text && !message.location && !message.contacts && (
          <span dir="auto" className={mergeClasses('text', message.deleted && styles.deleted)}>
            {message.text}
          </span>
        )}
      </div>
      <div className={styles.meta}>
        {/* A name as the person wrote it: an Arabic or Hebrew one runs right to left, apart from the time beside it. */}
        <Caption1 className={mergeClasses(styles.sender, 'sender')} dir="auto">
          {sender}
        </Caption1>
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
        {onQuote && message.kind === 'message' && !message.deleted && (
          <Button size="small" appearance="transparent" className={mergeClasses(styles.quoteAction, 'quote-action')} aria-label={`Reply to this message from ${sender}, ${formatTime(message.sentAt)}`} onClick={onQuote}>
            Reply
          </Button>
        )}
      </div>
      {visibleReactions.length > 0 && (
        <Caption1 className={styles.reactions} aria-label="Reactions">
          {visibleReactions.map((reaction, index) => (
            <span key={reaction.id}>
              {index > 0 && '  '}
              {reaction.emoji}
              {reaction.sender.name && (
                <>
                  {' '}
                  <bdi>{reaction.sender.name}</bdi>
                </>
              )}
            </span>
          ))}
        </Caption1>
      )}
    </li>
  );
}

/** The message the view was opened at takes the focus (tabIndex -1: by script only) and says why it is marked. */
function foundMark(found: string | undefined) {
  return found !== undefined ? { tabIndex: -1, 'aria-description': found, 'data-found': 'true' } : {};
}

/** What a failed reply needs to be sent again: where to, and what to tell the view around it. */
export interface ResendOptions {
  conversationId: number;
  window: WindowState;
  onWindowChange(window: WindowState): void;
  /** The bridge accepted the copy: the view reads its newest messages again. */
  onResent(): void;
}

/**
 * A reply accepted by the bridge that is not yet a WhatsApp message, or failed on the way. A failed
 * one stays as it is (it is part of the record) and, with `resend`, offers to send it again as a new
 * reply: the bridge copies what it kept (text, files, quote, template and its parameters).
 */
export function PendingBubble({ reply, resend }: { reply: PendingReply; resend?: ResendOptions | undefined }) {
  const styles = useStyles();
  const { api } = useSession();
  const row = useRef<HTMLLIElement>(null);
  const textId = useId();
  const [busy, setBusy] = useState(false);
  // What the last press of "Send again" did: said by the status below, and kept on show.
  const [resent, setResent] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const text = reply.template ? `Template: ${reply.template.name}${reply.template.parameters.length > 0 ? `: ${reply.template.parameters.join(' | ')}` : ''}` : reply.text;
  const failed = reply.state === 'failed';

  const sendAgain = async () => {
    if (!resend || busy) return;
    setBusy(true);
    setProblem(null);
    try {
      // Pressed again (after a reload, in another pane, by a colleague), the bridge sends it once.
      const accepted = await api.reply(resend.conversationId, { resendOf: reply.commandId });
      // The button goes once it has done its work: the focus moves to the reply it was part of, not to the page.
      row.current?.focus();
      setResent(resentNote(accepted));
      resend.onResent();
    } catch (error) {
      if (error instanceof ApiError && error.code === 'window_closed') {
        resend.onWindowChange({ ...resend.window, state: 'closed', closesAt: error.problem.closesAt ?? resend.window.closesAt, templates: error.problem.templates ?? resend.window.templates });
      }
      setProblem(`Not sent again: ${describeError(error)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <li ref={row} className={mergeClasses(styles.row, styles.rowFirm, 'bubble', 'pending')} data-state={reply.state} data-command-id={reply.commandId} tabIndex={failed ? -1 : undefined}>
      <div className={mergeClasses(styles.bubble, styles.bubbleFirm)}>
        {text && (
          <span id={textId} dir="auto" className="text">
            {text}
          </span>
        )}
        {reply.fileNames.map((name) => (
          <Caption1 key={name} as="p" dir="auto">
            📎 {name}
          </Caption1>
        ))}
      </div>
      <div className={styles.meta}>
        <Caption1 className={mergeClasses(styles.sender, 'sender')} dir="auto">
          {reply.author}
        </Caption1>
        <Caption1>
          <time dateTime={reply.createdAt}>{formatTime(reply.createdAt)}</time>
        </Caption1>
        <Caption1>{failed ? <span className={mergeClasses(styles.failed, 'failure')}>Failed: {reply.error?.message ?? 'not sent'}</span> : <DeliveryTicks status="queued" />}</Caption1>
      </div>
      {failed && resend && (
        <div className={styles.meta}>
          {!resent && (
            // disabledFocusable: a disabled button would drop the focus to the page while the bridge answers.
            <Button size="small" appearance="secondary" disabledFocusable={busy} aria-describedby={text ? textId : undefined} onClick={() => void sendAgain()}>
              Send again
            </Button>
          )}
          <Caption1 role="status" className="resend-status">
            {resent}
          </Caption1>
        </div>
      )}
      {problem && (
        <Caption1 role="alert" className={mergeClasses(styles.failed, 'resend-problem')}>
          {problem}
        </Caption1>
      )}
    </li>
  );
}

/** What became of a press of "Send again", as the bridge answered it. */
function resentNote({ created, state }: ReplyAccepted): string {
  const what = created ? 'Sent again' : 'Already sent again';
  if (state === 'failed') return `${what}, and that copy failed too: see below.`;
  return `${what}: ${state === 'sent' ? 'WhatsApp has it' : 'queued for WhatsApp'}.`;
}
