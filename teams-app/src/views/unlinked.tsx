import { Badge, Body1Strong, Button, Caption1, mergeClasses, MessageBar, MessageBarBody, Spinner } from '@fluentui/react-components';
import type { ConversationSummary } from '@wa-bridge/shared/api/conversations';
import { formatPhone } from '@wa-bridge/shared/phone';
import { useSession } from '@wa-bridge/shared/ui/api-context';
import { useCallback, useEffect, useRef, useState } from 'react';
import { listStyles } from '@wa-bridge/shared/ui/list-styles';
import { laterActivity, useFirstSight, useListChanges } from './use-list-changes.js';

/**
 * WhatsApp conversations that no matter is linked to. `only="unassigned"` narrows them to the
 * untriaged ones an admin still has to hand to someone; `"all"` also shows the assigned ones
 * (for a solicitor, the API lists only those assigned to them).
 */
export function UnlinkedConversations({ only, onOpen }: { only: 'all' | 'unassigned'; onOpen(conversationId: number): void }) {
  const list = listStyles();
  const { api } = useSession();
  const [items, setItems] = useState<ConversationSummary[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  /** Said to a screen reader when conversations join the list while it is open. */
  const [arrived, setArrived] = useState('');
  /** How many conversations the pages read so far held: a reload reads as many again. */
  const read = useRef(0);
  const shown = useRef<Set<number> | null>(null);

  const load = useCallback(
    async (after?: string) => {
      try {
        const page = await api.listConversations({ unlinked: 'true', limit: 100, ...(after ? { cursor: after } : {}) });
        read.current = (after ? read.current : 0) + page.items.length;
        const wanted = page.items.filter((item) => only === 'all' || item.assignee === null);
        setItems((current) => (after ? [...(current ?? []), ...wanted] : wanted));
        setCursor(page.nextCursor);
        setProblem(null);
      } catch (error) {
        setProblem(error instanceof Error ? error.message : String(error));
      }
    },
    [api, only],
  );

  useEffect(() => void load(), [load]);

  // A client who writes for the first time, a conversation linked or assigned elsewhere: the list
  // follows without a reload, over as many pages as were read, and says who joined it.
  const reload = useCallback(async () => {
    try {
      const pages: ConversationSummary[] = [];
      let next: string | null = null;
      do {
        const page = await api.listConversations({ unlinked: 'true', limit: 100, ...(next ? { cursor: next } : {}) });
        pages.push(...page.items);
        next = page.nextCursor;
      } while (next && pages.length < read.current);
      read.current = pages.length;
      const wanted = pages.filter((item) => only === 'all' || item.assignee === null);
      const before = shown.current;
      const joined = before ? wanted.filter((item) => !before.has(item.id)) : [];
      if (joined.length === 1) setArrived(`New conversation: ${clientOf(joined[0]!)}`);
      else if (joined.length > 1) setArrived(`${joined.length} new conversations`);
      setItems(wanted);
      setCursor(next);
      setProblem(null);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    }
  }, [api, only]);
  // A new conversation, or one linked, assigned or released elsewhere, means reading the list again;
  // a message in a conversation it shows only moves that row's last activity.
  const firstSight = useFirstSight();
  useListChanges(
    () => void reload(),
    (event) => {
      if (event.type === 'conversation') return true;
      if (shown.current?.has(event.conversationId)) {
        setItems((current) => current?.map((item) => (item.id === event.conversationId ? laterActivity(item, event.message.sentAt) : item)) ?? current);
        return false;
      }
      return firstSight(event.conversationId);
    },
  );
  useEffect(() => {
    if (items) shown.current = new Set(items.map((item) => item.id));
  }, [items]);

  const label = only === 'unassigned' ? 'Conversations to triage' : 'Conversations without a matter';
  return (
    <>
      <span className={mergeClasses(list.spoken, 'list-arrivals')} aria-live="polite">
        {arrived}
      </span>
      {problem && (
        <MessageBar layout="multiline" intent="error" role="alert">
          <MessageBarBody>{problem}</MessageBarBody>
        </MessageBar>
      )}
      {!items && !problem && <Spinner size="small" label="Loading conversations" />}
      {items && items.length === 0 && (
        <Caption1 className={list.empty}>{only === 'unassigned' ? 'None: every conversation is on a matter or assigned to someone.' : 'No conversations without a matter.'}</Caption1>
      )}
      <ul className={list.list} aria-label={label}>
        {items?.map((conversation) => (
          <li key={conversation.id} className="unlinked-conversation">
            <button type="button" className={list.row} onClick={() => onOpen(conversation.id)}>
              <span className={list.line}>
                <Body1Strong className="client-name" dir="auto">
                  {clientOf(conversation)}
                </Body1Strong>
                {conversation.assignee ? (
                  <Badge appearance="outline" className="assignee" dir="auto">
                    {conversation.assignee}
                  </Badge>
                ) : (
                  <Badge appearance="tint" color="warning">
                    untriaged
                  </Badge>
                )}
              </span>
              <Caption1>
                {[conversation.client.name ? phoneOf(conversation) : null, `last activity ${new Date(conversation.lastActivityAt).toLocaleString()}`].filter(Boolean).join(' · ')}
              </Caption1>
            </button>
          </li>
        ))}
      </ul>
      {cursor && (
        <Button appearance="subtle" onClick={() => void load(cursor)}>
          More conversations
        </Button>
      )}
    </>
  );
}

/** How a row names the client: by name, else by number. */
export const clientOf = (conversation: ConversationSummary): string => conversation.client.name ?? phoneOf(conversation) ?? 'Client';

export function phoneOf(conversation: ConversationSummary): string | null {
  return conversation.client.number ? (formatPhone(conversation.client.number) ?? conversation.client.number) : null;
}
