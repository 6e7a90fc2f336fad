import { Body1, makeStyles, MessageBar, MessageBarBody, MessageBarTitle, Spinner, tokens } from '@fluentui/react-components';
import { ApiError } from '@wa-bridge/shared/api/client';
import { SessionProvider, signIn, type SignedIn } from '@wa-bridge/shared/ui/api-context';
import { ConversationView } from '@wa-bridge/shared/ui/conversation-view';
import { useEffect, useState } from 'react';
import { outlookTokenSources } from './auth/token-sources.js';
import { SandboxPreview } from './sandbox-preview.js';
import type { HostInfo, OutlookHost } from './host/office.js';

const useStyles = makeStyles({
  root: { display: 'flex', flexDirection: 'column', height: '100%', minHeight: 0 },
  note: { padding: tokens.spacingHorizontalM, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  sandbox: { flexShrink: 0 },
});

type Found = { state: 'loading' } | { state: 'found'; conversationId: number; waMessageId: string | null } | { state: 'none'; title: string; detail: string; intent?: 'info' | 'warning' };

/**
 * The task pane: sign in, read the open mail's X-WhatsApp-Chat-Id, and show that conversation at
 * the message the mail mirrors (its X-WhatsApp-Message-Id).
 * A pinned pane follows the user to the next mail.
 */
export function App({ host }: { host: HostInfo }) {
  const styles = useStyles();
  const [signedIn, setSignedIn] = useState<SignedIn | null>(null);
  const [signInProblem, setSignInProblem] = useState<string | null>(null);

  useEffect(() => {
    signIn(host.kind === 'outlook' ? outlookTokenSources(host) : []).then(setSignedIn, (error: unknown) => setSignInProblem(error instanceof Error ? error.message : String(error)));
  }, [host]);

  if (host.kind === 'none') {
    return (
      <div className={styles.note}>
        <MessageBar layout="multiline" intent="info" className="not-in-outlook">
          <MessageBarBody>
            <MessageBarTitle>Not running inside Outlook</MessageBarTitle>
            Open a mail the bridge mirrored from WhatsApp in Outlook, then choose “WhatsApp conversation” on the ribbon.
          </MessageBarBody>
        </MessageBar>
        {signedIn?.sandboxNotice && (
          <SessionProvider session={signedIn.session}>
            <SandboxPreview />
          </SessionProvider>
        )}
      </div>
    );
  }
  if (signInProblem) return <Problem title="Could not sign in" detail={signInProblem} />;
  if (!signedIn) return <Spinner label="Signing in" />;
  return (
    <SessionProvider session={signedIn.session}>
      <div className={styles.root}>
        {signedIn.sandboxNotice && (
          <MessageBar layout="multiline" intent="warning" className={styles.sandbox}>
            <MessageBarBody>
              <MessageBarTitle>Sandbox</MessageBarTitle>
              {signedIn.sandboxNotice}
            </MessageBarBody>
          </MessageBar>
        )}
        <MailConversation host={host} signedIn={signedIn} />
      </div>
    </SessionProvider>
  );
}

function MailConversation({ host, signedIn }: { host: OutlookHost; signedIn: SignedIn }) {
  const [found, setFound] = useState<Found>({ state: 'loading' });
  const [itemVersion, setItemVersion] = useState(0);

  useEffect(() => host.onItemChanged(() => setItemVersion((version) => version + 1)), [host]);

  useEffect(() => {
    let cancelled = false;
    setFound({ state: 'loading' });
    (async (): Promise<Found> => {
      const item = await host.readItem();
      if (!item) return { state: 'none', title: 'No mail selected', detail: 'Select a mail to see its WhatsApp conversation.', intent: 'info' };
      if (!item.chatId) return { state: 'none', title: 'Not a WhatsApp mail', detail: 'This mail has no X-WhatsApp-Chat-Id header, so it was not mirrored from a WhatsApp chat.', intent: 'info' };
      try {
        const conversation = await signedIn.session.api.conversationByChatId(item.chatId);
        return { state: 'found', conversationId: conversation.id, waMessageId: item.waMessageId };
      } catch (error) {
        if (error instanceof ApiError && (error.status === 404 || error.status === 403)) return { state: 'none', title: error.status === 404 ? 'Conversation not found' : 'Not yours to see', detail: error.message };
        throw error;
      }
    })().then(
      (result) => !cancelled && setFound(result),
      (error: unknown) => !cancelled && setFound({ state: 'none', title: 'Could not load the conversation', detail: error instanceof Error ? error.message : String(error) }),
    );
    return () => {
      cancelled = true;
    };
  }, [host, signedIn, itemVersion]);

  if (found.state === 'loading') return <Spinner label="Reading the mail" />;
  if (found.state === 'none') return <Problem title={found.title} detail={found.detail} intent={found.intent ?? 'warning'} />;
  // Opened at the message the mail mirrors (the cover mail has none): moving to another mail of the
  // same chat moves the pane to that mail's message.
  const show = found.waMessageId ? { waMessageId: found.waMessageId, why: 'The message of this mail' } : undefined;
  return <ConversationView key={`${found.conversationId}:${found.waMessageId ?? ''}`} conversationId={found.conversationId} show={show} />;
}

function Problem({ title, detail, intent = 'warning' }: { title: string; detail: string; intent?: 'info' | 'warning' }) {
  const styles = useStyles();
  return (
    <div className={styles.note}>
      <MessageBar layout="multiline" intent={intent} role={intent === 'warning' ? 'alert' : 'status'}>
        <MessageBarBody>
          <MessageBarTitle>{title}</MessageBarTitle>
          <Body1>{detail}</Body1>
        </MessageBarBody>
      </MessageBar>
    </div>
  );
}
