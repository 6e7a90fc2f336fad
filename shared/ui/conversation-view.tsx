import { Badge, Body1Strong, Button, Caption1, makeStyles, mergeClasses, MessageBar, MessageBarBody, Spinner, tokens } from '@fluentui/react-components';
import type { ConversationDetail, MessageItem, PendingReply, WindowState } from '@wa-bridge/shared/api/conversations';
import type { StreamEvent } from '@wa-bridge/shared/api/stream';
import { formatPhone } from '@wa-bridge/shared/phone';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { useSession } from './api-context.js';
import { Assignee } from './conversation/assignee.js';
import { Composer } from './conversation/composer.js';
import { ConversationSearch } from './conversation/conversation-search.js';
import { ImportExport } from './conversation/import-export.js';
import { MatterLinks } from './conversation/matter-links.js';
import { MessageBubble, PendingBubble } from './conversation/message-bubble.js';
import { ConversationRetentionStrip } from './conversation/retention.js';
import { seekMessagesLimit, useSeekMessage, type SeekState, type SeekTarget } from './conversation/use-seek-message.js';
import { describeError } from './format.js';
import { useStream, type StreamState } from './use-stream.js';

const useStyles = makeStyles({
  root: { display: 'flex', flexDirection: 'column', height: '100%', minHeight: 0, backgroundColor: tokens.colorNeutralBackground1 },
  header: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalS, padding: tokens.spacingHorizontalS, flexWrap: 'wrap' },
  title: { display: 'flex', flexDirection: 'column', flexGrow: 1, minWidth: 0 },
  list: { flexGrow: 1, overflowY: 'auto', padding: tokens.spacingHorizontalS, minHeight: '120px' },
  items: { listStyle: 'none', margin: 0, padding: 0 },
  older: { display: 'flex', justifyContent: 'center', margin: tokens.spacingVerticalXS },
  readOnly: { padding: tokens.spacingHorizontalS, color: tokens.colorNeutralForeground3 },
});

const mediaPollMs = 1500;
const mediaWaitMs = 10 * 60_000;

const streamLabels: Record<StreamState, string> = { connecting: 'Connecting', live: 'Live', offline: 'Offline, retrying' };

const seekNotes: Record<Exclude<SeekState, 'found'>, string> = {
  seeking: 'Finding the message in the conversation…',
  gone: 'That message is no longer in this conversation.',
  'too-far': `That message is more than ${seekMessagesLimit.toLocaleString('en-GB')} messages back, or could not be read: use Show older messages.`,
};

/**
 * The WhatsApp conversation as both front ends show it: header with the client and matters,
 * bubbles oldest to newest (older pages on request), replies waiting to be sent, the composer, and
 * live updates from the API's event stream. After a reconnect it reloads the newest page, so an
 * event missed while offline still shows up.
 */
export function ConversationView({ conversationId, show }: { conversationId: number; show?: SeekTarget | undefined }) {
  const styles = useStyles();
  const { api } = useSession();
  const [detail, setDetail] = useState<ConversationDetail | null>(null);
  const [items, setItems] = useState<MessageItem[]>([]);
  const [pending, setPending] = useState<PendingReply[]>([]);
  // undefined until the first page arrives; null once there is nothing older.
  const [olderCursor, setOlderCursor] = useState<string | null | undefined>(undefined);
  const [problem, setProblem] = useState<string | null>(null);
  const listRef = useRef<HTMLDivElement>(null);
  // Opened at a given message (a search hit, the mail open in Outlook), the list is held there, not at the newest.
  const stickToBottom = useRef(show === undefined);
  /** The message the list is held at: the one asked for, then a hit found in the conversation. */
  const [target, setTarget] = useState<SeekTarget | undefined>(show);
  const [searching, setSearching] = useState(false);
  /** The message the next reply quotes, chosen with its bubble's Reply. */
  const [quoting, setQuoting] = useState<MessageItem | null>(null);
  /** Where the list was scrolled to at its last scroll event. */
  const lastScrollTop = useRef(0);

  /** Whether the stream was connected before its latest "ready": one that follows a break. */
  const connectedBefore = useRef(false);
  const loadDetail = useCallback(() => api.getConversation(conversationId).then(setDetail), [api, conversationId]);
  const loadNewest = useCallback(async () => {
    const page = await api.listMessages(conversationId, { limit: 50 });
    setItems((current) => merge(current, page.items));
    setPending(page.pending);
    setOlderCursor((cursor) => (cursor === undefined ? page.nextCursor : cursor));
  }, [api, conversationId]);

  useEffect(() => {
    setDetail(null);
    setItems([]);
    setPending([]);
    setOlderCursor(undefined);
    setProblem(null);
    connectedBefore.current = false;
    Promise.all([loadDetail(), loadNewest()]).catch((error: unknown) => setProblem(describeError(error)));
  }, [loadDetail, loadNewest]);

  const onEvent = useCallback(
    (event: StreamEvent) => {
      const refresh = () => void loadNewest().catch((error: unknown) => setProblem(describeError(error)));
      switch (event.type) {
        case 'ready':
          // Connected again: what a failed reload said while the bridge was away is over once this one works.
          void loadNewest().then(
            () => setProblem(null),
            (error: unknown) => setProblem(describeError(error)),
          );
          // After a break, a hold or a link may have changed unseen; the first connection follows the view's own read.
          if (connectedBefore.current) void loadDetail().catch((error: unknown) => setProblem(describeError(error)));
          connectedBefore.current = true;
          return;
        case 'message':
          if (event.conversationId !== conversationId) return;
          setItems((current) => merge(current, [event.message]));
          if (event.message.direction === 'outbound') refresh();
          return;
        case 'delivery':
          if (event.conversationId !== conversationId) return;
          setItems((current) => current.map((item) => (item.waMessageId === event.waMessageId && item.kind === 'message' ? { ...item, delivery: { status: event.status, at: event.at } } : item)));
          return;
        case 'reply':
          if (event.conversationId === conversationId) refresh();
          return;
        case 'conversation':
          if (event.conversation.id !== conversationId) return;
          setDetail((current) => (current ? { ...current, ...event.conversation } : current));
          // What the summary does not carry (the links' history, what the user may do, the
          // retention) may have changed with it: read again.
          void loadDetail().catch((error: unknown) => setProblem(describeError(error)));
          return;
        case 'retention':
          if (event.conversationId === conversationId) void loadDetail().catch((error: unknown) => setProblem(describeError(error)));
          return;
      }
    },
    [conversationId, loadDetail, loadNewest],
  );
  const streamState = useStream(conversationId, onEvent);

  // The stream announces a message when it is stored, which can be before its media has been
  // fetched from WhatsApp; until every recent attachment has bytes, read the newest page again.
  const awaitingMedia = items.some((item) => item.attachments.some((attachment) => attachment.downloadUrl === null) && Date.now() - Date.parse(item.sentAt) < mediaWaitMs);
  useEffect(() => {
    if (!awaitingMedia) return;
    const timer = setTimeout(() => void loadNewest().catch((error: unknown) => setProblem(describeError(error))), mediaPollMs);
    return () => clearTimeout(timer);
  }, [awaitingMedia, items, loadNewest]);

  useLayoutEffect(() => {
    const list = listRef.current;
    if (list && stickToBottom.current) list.scrollTop = list.scrollHeight;
  }, [items, pending]);

  // Images and videos take their height when they load, after the jump to the newest message: it
  // is taken again then, unless the reader has scrolled up. (load does not bubble; capture sees it.)
  const hasList = detail !== null;
  useEffect(() => {
    const list = listRef.current;
    if (!list) return;
    const keepAtBottom = () => {
      if (stickToBottom.current) list.scrollTop = list.scrollHeight;
    };
    list.addEventListener('load', keepAtBottom, true);
    list.addEventListener('loadedmetadata', keepAtBottom, true);
    return () => {
      list.removeEventListener('load', keepAtBottom, true);
      list.removeEventListener('loadedmetadata', keepAtBottom, true);
    };
  }, [hasList]);

  const readOlder = useCallback(
    async (size: number): Promise<boolean> => {
      if (!olderCursor) return false;
      stickToBottom.current = false;
      try {
        const page = await api.listMessages(conversationId, { cursor: olderCursor, limit: size });
        setItems((current) => merge(current, page.items));
        setOlderCursor(page.nextCursor);
        return true;
      } catch (error) {
        setProblem(describeError(error));
        return false;
      }
    },
    [api, conversationId, olderCursor],
  );
  const loadOlder = () => readOlder(50);
  // After the jump to the newest message above, so the message asked for has the last word on where the list is.
  const seek = useSeekMessage(target, items, olderCursor, readOlder, listRef);

  const { bubbles, reactionsByTarget } = useMemo(() => {
    const reactions = new Map<string, MessageItem[]>();
    for (const item of items) {
      if (item.kind !== 'reaction' || !item.targetWaMessageId) continue;
      reactions.set(item.targetWaMessageId, [...(reactions.get(item.targetWaMessageId) ?? []), item]);
    }
    return { bubbles: items.filter((item) => item.kind !== 'reaction'), reactionsByTarget: reactions };
  }, [items]);

  if (!detail) {
    return problem ? (
      <MessageBar layout="multiline" intent="error" role="alert">
        <MessageBarBody>{problem}</MessageBarBody>
      </MessageBar>
    ) : (
      <Spinner label="Loading the conversation" />
    );
  }

  const setWindow = (window: WindowState) => setDetail({ ...detail, window });
  const number = detail.client.number ? (formatPhone(detail.client.number) ?? detail.client.number) : null;
  const client = detail.client.name ?? number ?? 'Client';
  return (
    <section className={styles.root} aria-label={`WhatsApp conversation with ${client}`} data-conversation-id={detail.id}>
      <header className={styles.header}>
        <div className={styles.title}>
          <Body1Strong className="client-name" dir="auto">
            {client}
          </Body1Strong>
          <Caption1>
            {[detail.client.name ? number : null, detail.channel === 'whatsapp-web' ? 'WhatsApp Web' : detail.channel === 'cloud-api' ? 'WhatsApp Business' : 'Imported chat'].filter(Boolean).join(' · ')}
          </Caption1>
        </div>
        <Badge appearance="outline" color={streamState === 'live' ? 'success' : 'warning'} className="stream-state" data-state={streamState}>
          {streamLabels[streamState]}
        </Badge>
        {!searching && (
          <Button size="small" appearance="subtle" className="search-conversation" aria-label="Search this conversation" onClick={() => setSearching(true)}>
            Search
          </Button>
        )}
      </header>
      {searching && (
        <ConversationSearch
          conversationId={detail.id}
          onPick={(hit) => {
            stickToBottom.current = false;
            setTarget({ id: hit.messageId, why: 'Found by the search' });
          }}
          onClose={() => setSearching(false)}
        />
      )}
      <MatterLinks conversation={detail} onChanged={() => void loadDetail().catch((error: unknown) => setProblem(describeError(error)))} />
      <Assignee conversation={detail} onAssigned={setDetail} />
      <ConversationRetentionStrip conversation={detail} onChanged={() => void loadDetail().catch((error: unknown) => setProblem(describeError(error)))} />
      {problem && (
        <MessageBar layout="multiline" intent="error" role="alert">
          <MessageBarBody>{problem}</MessageBarBody>
        </MessageBar>
      )}
      {seek.state && seek.state !== 'found' && (
        <Caption1 role="status" className={mergeClasses(styles.readOnly, 'seek-state')} data-state={seek.state}>
          {seekNotes[seek.state]}
        </Caption1>
      )}
      {/* The scrolling region is the log; the messages inside it stay a list for screen readers. */}
      <div
        ref={listRef}
        className={styles.list}
        role="log"
        aria-label="Messages"
        tabIndex={0}
        onScroll={(event) => {
          const list = event.currentTarget;
          // Only the reader moving up lets go of the bottom. The browser scrolls too, downwards, when
          // a photo above the newest message takes its height (scroll anchoring) before its load
          // event: measured then, the list is short of the bottom, yet it should follow.
          if (list.scrollHeight - list.scrollTop - list.clientHeight < 40) stickToBottom.current = true;
          else if (list.scrollTop < lastScrollTop.current) stickToBottom.current = false;
          lastScrollTop.current = list.scrollTop;
        }}
      >
        {olderCursor && (
          <div className={styles.older}>
            <Button size="small" appearance="subtle" onClick={() => void loadOlder()}>
              Show older messages
            </Button>
          </div>
        )}
        {bubbles.length === 0 && pending.length === 0 && <Caption1>No messages yet.</Caption1>}
        <ol className={styles.items}>
          {bubbles.map((message) => (
            <MessageBubble
              key={message.id}
              message={message}
              reactions={reactionsByTarget.get(message.waMessageId) ?? []}
              found={message.id === seek.bubbleId ? target?.why : undefined}
              // A reply can quote a message while the window is open; a template goes without one.
              onQuote={detail.can.reply && detail.window.state === 'open' ? () => setQuoting(message) : undefined}
              onShowQuoted={(waMessageId) => {
                stickToBottom.current = false;
                setTarget({ waMessageId, why: 'The quoted message' });
              }}
            />
          ))}
          {pending.map((reply) => (
            <PendingBubble
              key={`pending-${reply.commandId}`}
              reply={reply}
              resend={
                detail.can.reply
                  ? {
                      conversationId: detail.id,
                      window: detail.window,
                      onWindowChange: setWindow,
                      onResent: () => {
                        stickToBottom.current = true;
                        void loadNewest().catch((error: unknown) => setProblem(describeError(error)));
                      },
                    }
                  : undefined
              }
            />
          ))}
        </ol>
      </div>
      {detail.can.reply ? (
        <Composer
          conversationId={detail.id}
          window={detail.window}
          onWindowChange={setWindow}
          quote={quoting && { waMessageId: quoting.waMessageId, sender: quoting.sender.name ?? (quoting.sender.side === 'firm' ? 'Firm' : 'Client'), text: quotePreview(quoting) }}
          onQuoteCleared={() => setQuoting(null)}
          onSent={() => {
            stickToBottom.current = true;
            void loadNewest().catch((error: unknown) => setProblem(describeError(error)));
          }}
        />
      ) : (
        <Caption1 className={styles.readOnly}>You can read this conversation but not reply to it.</Caption1>
      )}
      {detail.can.reply && <ImportExport conversation={detail} onImported={() => void loadNewest().catch((error: unknown) => setProblem(describeError(error)))} />}
    </section>
  );
}

/** What the reply box shows of a message it quotes: its text, or what it carries. */
function quotePreview(message: MessageItem): string {
  if (message.text) return message.text;
  const [first] = message.attachments;
  if (first) return first.fileName ?? 'A file';
  if (message.location) return 'A location';
  if (message.contacts) return 'A contact';
  return 'A message';
}

/** Adds or replaces messages by id and keeps them in the order the bridge stored them. */
function merge(current: MessageItem[], incoming: MessageItem[]): MessageItem[] {
  const byId = new Map(current.map((item) => [item.id, item]));
  for (const item of incoming) byId.set(item.id, item);
  // By when each was sent, as the server pages them: imported history sits among its own time.
  return [...byId.values()].sort((a, b) => Date.parse(a.sentAt) - Date.parse(b.sentAt) || a.seq - b.seq);
}
