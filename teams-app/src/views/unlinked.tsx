import { Badge, Body1Strong, Button, Caption1, MessageBar, MessageBarBody, Spinner } from '@fluentui/react-components';
import type { ConversationSummary } from '@wa-bridge/shared/api/conversations';
import { formatPhone } from '@wa-bridge/shared/phone';
import { useSession } from '@wa-bridge/shared/ui/api-context';
import { useCallback, useEffect, useState } from 'react';
import { listStyles } from './list-styles.js';

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

  const load = useCallback(
    async (after?: string) => {
      try {
        const page = await api.listConversations({ unlinked: 'true', limit: 100, ...(after ? { cursor: after } : {}) });
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

  const label = only === 'unassigned' ? 'Conversations to triage' : 'Conversations without a matter';
  return (
    <>
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
                  {conversation.client.name ?? phoneOf(conversation) ?? 'Client'}
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

export function phoneOf(conversation: ConversationSummary): string | null {
  return conversation.client.number ? (formatPhone(conversation.client.number) ?? conversation.client.number) : null;
}
