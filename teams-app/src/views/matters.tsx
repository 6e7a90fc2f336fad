import { Badge, Body1Strong, Button, Caption1, Input, makeStyles, MessageBar, MessageBarBody, Select, Spinner, tokens } from '@fluentui/react-components';
import type { ConversationSummary } from '@wa-bridge/shared/api/conversations';
import type { Matter } from '@wa-bridge/shared/api/matters';
import { useSession } from '@wa-bridge/shared/ui/api-context';
import { ConversationView } from '@wa-bridge/shared/ui/conversation-view';
import { useEffect, useRef, useState } from 'react';
import { listStyles } from '@wa-bridge/shared/ui/list-styles';
import { ExportEvidence, mayExportEvidence } from './export-evidence.js';
import { MatterDetails } from './matter-details.js';
import { NewMatterForm } from './new-matter.js';
import { phoneOf, UnlinkedConversations } from './unlinked.js';
import { useLevelChange } from './use-level-change.js';
import { laterActivity, useFirstSight, useListChanges } from './use-list-changes.js';

const useStyles = makeStyles({
  bar: { display: 'flex', gap: tokens.spacingHorizontalS, padding: tokens.spacingHorizontalS, flexWrap: 'wrap', alignItems: 'center' },
  grow: { flexGrow: 1, minWidth: '140px' },
  pane: { display: 'flex', flexDirection: 'column', flexGrow: 1, minHeight: 0 },
  export: { padding: `0 ${tokens.spacingHorizontalS} ${tokens.spacingVerticalS}` },
});

type Level =
  | { at: 'matters' }
  | { at: 'new' }
  | { at: 'unlinked' }
  | { at: 'matter'; matterId: number }
  | { at: 'conversation'; matterId: number | null; conversationId: number };

/**
 * Matters, then a matter's conversations, then one conversation: one level at a time, so it reads
 * the same in a narrow side panel as in a full tab. A channel tab starts on its bound matter.
 */
export function MattersView({ boundMatterId }: { boundMatterId: number | null }) {
  const [level, setLevel] = useState<Level>(boundMatterId ? { at: 'matter', matterId: boundMatterId } : { at: 'matters' });
  const { container, announcement } = useLevelChange(level);
  return (
    <div ref={container} style={{ display: 'contents' }}>
      {announcement}
      <MattersLevel level={level} setLevel={setLevel} boundMatterId={boundMatterId} />
    </div>
  );
}

function MattersLevel({ level, setLevel, boundMatterId }: { level: Level; setLevel(level: Level): void; boundMatterId: number | null }) {
  const styles = useStyles();
  const list = listStyles();
  const { me } = useSession();

  if (level.at === 'conversation') {
    return (
      <div className={styles.pane}>
        <div className={styles.bar}>
          <Button appearance="subtle" onClick={() => setLevel(level.matterId ? { at: 'matter', matterId: level.matterId } : { at: 'unlinked' })}>
            ← Back to conversations
          </Button>
        </div>
        {mayExportEvidence(me.roles) && (
          <div className={styles.export}>
            <ExportEvidence key={level.conversationId} scope={{ conversationId: level.conversationId }} />
          </div>
        )}
        <ConversationView conversationId={level.conversationId} />
      </div>
    );
  }
  if (level.at === 'matter') {
    return (
      <MatterConversations
        matterId={level.matterId}
        onBack={boundMatterId ? null : () => setLevel({ at: 'matters' })}
        onOpen={(conversationId) => setLevel({ at: 'conversation', matterId: level.matterId, conversationId })}
      />
    );
  }
  if (level.at === 'new') {
    return <NewMatterForm onCreated={(matter) => setLevel({ at: 'matter', matterId: matter.id })} onCancel={() => setLevel({ at: 'matters' })} />;
  }
  if (level.at === 'unlinked') {
    return (
      <div className={styles.pane}>
        <div className={styles.bar}>
          <Button appearance="subtle" onClick={() => setLevel({ at: 'matters' })}>
            ← Matters
          </Button>
        </div>
        <h2 className={list.spoken}>Conversations without a matter</h2>
        <UnlinkedConversations only="all" onOpen={(conversationId) => setLevel({ at: 'conversation', matterId: null, conversationId })} />
      </div>
    );
  }
  return <MatterList onOpen={(matterId) => setLevel({ at: 'matter', matterId })} onNew={() => setLevel({ at: 'new' })} onUnlinked={() => setLevel({ at: 'unlinked' })} />;
}

function MatterList({ onOpen, onNew, onUnlinked }: { onOpen(matterId: number): void; onNew(): void; onUnlinked(): void }) {
  const styles = useStyles();
  const list = listStyles();
  const { api, me } = useSession();
  const [unlinked, setUnlinked] = useState<number | null>(null);
  const [state, setState] = useState<'open' | 'closed' | 'all'>('open');
  const [query, setQuery] = useState('');
  const [matters, setMatters] = useState<Matter[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  // Counts move as conversations are linked or assigned and new clients write: read both again then.
  const [changes, setChanges] = useState(0);
  const firstSight = useFirstSight();
  useListChanges(
    () => setChanges((n) => n + 1),
    (event) => event.type === 'conversation' || firstSight(event.conversationId),
  );

  useEffect(() => {
    let cancelled = false;
    const timer = setTimeout(() => {
      api.listMatters({ state, ...(query.trim() ? { q: query.trim() } : {}) }).then(
        (result) => {
          if (cancelled) return;
          setMatters(result.items);
          setProblem(null);
        },
        (error: unknown) => !cancelled && setProblem(error instanceof Error ? error.message : String(error)),
      );
    }, 200);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [api, state, query, changes]);

  // Conversations on no matter: for a solicitor, those an admin assigned to them.
  useEffect(() => {
    let cancelled = false;
    api.listConversations({ unlinked: 'true', limit: 200 }).then(
      (page) => !cancelled && setUnlinked(page.items.length),
      () => !cancelled && setUnlinked(null),
    );
    return () => {
      cancelled = true;
    };
  }, [api, changes]);

  return (
    <div className={styles.pane}>
      <h2 className={list.spoken}>Matters</h2>
      <div className={styles.bar}>
        <Input className={styles.grow} placeholder="Filter by reference or title" aria-label="Filter matters" value={query} onChange={(_event, data) => setQuery(data.value)} />
        <Select aria-label="Matter state" value={state} onChange={(_event, data) => setState(data.value as typeof state)}>
          <option value="open">Open</option>
          <option value="closed">Closed</option>
          <option value="all">All</option>
        </Select>
        {me.can.manageMatters && (
          <Button appearance="primary" onClick={onNew}>
            New matter
          </Button>
        )}
      </div>
      {unlinked !== null && unlinked > 0 && (
        <button type="button" className={list.row} onClick={onUnlinked}>
          <span className={list.line}>
            <Body1Strong>Not on a matter yet</Body1Strong>
            <Badge appearance="tint" aria-label={`${unlinked} conversations`}>
              {unlinked}
            </Badge>
          </span>
          <Caption1>{me.can.seeAll ? 'WhatsApp conversations no matter has been linked to' : 'WhatsApp conversations assigned to you'}</Caption1>
        </button>
      )}
      {problem && (
        <MessageBar layout="multiline" intent="error" role="alert">
          <MessageBarBody>{problem}</MessageBarBody>
        </MessageBar>
      )}
      {!matters && !problem && <Spinner label="Loading matters" />}
      {matters && matters.length === 0 && <Caption1 className={list.empty}>No matters to show.</Caption1>}
      <ul className={list.list} aria-label="Matters">
        {matters?.map((matter) => (
          <li key={matter.id}>
            <button type="button" className={list.row} onClick={() => onOpen(matter.id)}>
              <span className={list.line}>
                <Body1Strong className="matter-ref">{matter.reference}</Body1Strong>
                {matter.state === 'closed' && <Badge appearance="outline">closed</Badge>}
                <Badge appearance="tint" aria-label={`${matter.linkedConversations} conversations`}>
                  {matter.linkedConversations}
                </Badge>
              </span>
              {/* dir="auto" as for client names: a Hebrew or Arabic title runs right to left, apart from the type. */}
              <Caption1>
                <span dir="auto" className="matter-title">
                  {matter.title}
                </span>
                {matter.matterType && (
                  <>
                    {' · '}
                    <span dir="auto" className="matter-type">
                      {matter.matterType}
                    </span>
                  </>
                )}
              </Caption1>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

function MatterConversations({ matterId, onBack, onOpen }: { matterId: number; onBack: (() => void) | null; onOpen(conversationId: number): void }) {
  const styles = useStyles();
  const list = listStyles();
  const { api } = useSession();
  const [matter, setMatter] = useState<Matter | null>(null);
  const [conversations, setConversations] = useState<ConversationSummary[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  // A conversation linked to the matter or taken off it, or the stream back from a break: the
  // matter and its list are read again.
  const [changes, setChanges] = useState(0);
  // The matter closed, a hold on it placed or released, or the stream back from a break: the
  // matter and its retention are read again as well.
  const [matterChanges, setMatterChanges] = useState(0);
  const listed = useRef(new Set<number>());
  listed.current = new Set(conversations?.map((conversation) => conversation.id));
  useListChanges(
    () => setChanges((n) => n + 1),
    (event) => {
      if (event.type === 'conversation') return listed.current.has(event.conversation.id) || event.conversation.matters.some((link) => link.matterId === matterId);
      // A message moves its row's last activity; nothing to read again for that.
      if (listed.current.has(event.conversationId)) {
        setConversations((current) => current?.map((item) => (item.id === event.conversationId ? laterActivity(item, event.message.sentAt) : item)) ?? current);
      }
      return false;
    },
    { id: matterId, changed: () => setMatterChanges((n) => n + 1) },
  );

  useEffect(() => {
    let cancelled = false;
    Promise.all([api.getMatter(matterId), api.listConversations({ matterId, limit: 100 })]).then(
      ([found, page]) => {
        if (cancelled) return;
        setMatter(found);
        setConversations(page.items);
        setProblem(null);
      },
      (error: unknown) => !cancelled && setProblem(error instanceof Error ? error.message : String(error)),
    );
    return () => {
      cancelled = true;
    };
  }, [api, matterId, changes, matterChanges]);

  return (
    <div className={styles.pane}>
      <div className={styles.bar}>
        {onBack && (
          <Button appearance="subtle" onClick={onBack}>
            ← Matters
          </Button>
        )}
        {matter && (
          <span className={styles.grow}>
            <Body1Strong className="matter-heading">{matter.reference}</Body1Strong>{' '}
            <Caption1 dir="auto" className="matter-title">
              {matter.title}
            </Caption1>
          </span>
        )}
      </div>
      {matter && (
        <h2 className={list.spoken}>
          Matter {matter.reference}: {matter.title}
        </h2>
      )}
      {matter && <MatterDetails matter={matter} onChanged={setMatter} changes={matterChanges} />}
      {problem && (
        <MessageBar layout="multiline" intent="error" role="alert">
          <MessageBarBody>{problem}</MessageBarBody>
        </MessageBar>
      )}
      {!conversations && !problem && <Spinner label="Loading conversations" />}
      {conversations && conversations.length === 0 && <Caption1 className={list.empty}>No WhatsApp conversations are linked to this matter.</Caption1>}
      <ul className={list.list} aria-label="Conversations">
        {conversations?.map((conversation) => (
          <li key={conversation.id}>
            <button type="button" className={list.row} onClick={() => onOpen(conversation.id)}>
              <span className={list.line}>
                <Body1Strong className="client-name" dir="auto">
                  {conversation.client.name ?? phoneOf(conversation) ?? 'Client'}
                </Body1Strong>
                {conversation.window.state === 'open' && <Badge appearance="tint" color="success">window open</Badge>}
              </span>
              <Caption1>
                {[conversation.client.name ? phoneOf(conversation) : null, `last activity ${new Date(conversation.lastActivityAt).toLocaleString()}`].filter(Boolean).join(' · ')}
              </Caption1>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
