import { Caption1, Field, makeStyles, Select, tokens } from '@fluentui/react-components';
import type { ConversationSummary } from '@wa-bridge/shared/api/conversations';
import { useSession } from '@wa-bridge/shared/ui/api-context';
import { ConversationView } from '@wa-bridge/shared/ui/conversation-view';
import { useEffect, useState } from 'react';

const useStyles = makeStyles({
  box: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS, minWidth: 0 },
  // A native select is as wide as its longest option unless told otherwise; the pane may be 320 px.
  fit: { width: '100%', minWidth: 0 },
  fitSelect: { width: '100%', minWidth: 0, maxWidth: '100%', textOverflow: 'ellipsis' },
  view: { display: 'flex', flexDirection: 'column', height: '70vh', border: `1px solid ${tokens.colorNeutralStroke2}` },
});

/**
 * Sandbox only: with no Outlook around there is no mail to read a chat id from, so the demo user
 * picks a conversation instead, and sees the pane as it would appear beside that chat's mails.
 */
export function SandboxPreview() {
  const styles = useStyles();
  const { api } = useSession();
  const [conversations, setConversations] = useState<ConversationSummary[]>([]);
  const [chosen, setChosen] = useState('');

  useEffect(() => {
    api.listConversations({ limit: 200 }).then((page) => setConversations(page.items), () => setConversations([]));
  }, [api]);

  return (
    <div className={styles.box}>
      <Caption1>This bridge runs as the sandbox: pick a conversation to see the pane as it looks beside that chat's mails.</Caption1>
      <Field label="Conversation (sandbox preview)">
        <Select className={styles.fit} select={{ className: styles.fitSelect }} value={chosen} onChange={(_event, data) => setChosen(data.value)}>
          <option value="">{conversations.length === 0 ? 'No conversations yet: write as a client at /sandbox' : 'Choose a conversation'}</option>
          {conversations.map((conversation) => (
            <option key={conversation.id} value={String(conversation.id)} dir="auto">
              {conversation.client.name ?? conversation.client.number ?? conversation.chatId}
            </option>
          ))}
        </Select>
      </Field>
      {chosen && (
        <div className={styles.view}>
          <ConversationView key={chosen} conversationId={Number(chosen)} />
        </div>
      )}
    </div>
  );
}
