import { Caption1, makeStyles, MessageBar, MessageBarBody, MessageBarTitle, Spinner, Tab, TabList, tokens } from '@fluentui/react-components';
import { SessionProvider, signIn, type SignedIn, type TokenSource } from '@wa-bridge/shared/ui/api-context';
import { useEffect, useState } from 'react';
import type { HostInfo } from './host/teams.js';
import { AdminView } from './views/admin.js';
import { AuditTrailView } from './views/audit-trail.js';
import { ConfigView } from './views/config.js';
import { RetentionView } from './views/retention.js';
import { MattersView } from './views/matters.js';
import { SearchView } from './views/search.js';

const useStyles = makeStyles({
  root: { display: 'flex', flexDirection: 'column', height: '100%', minHeight: 0 },
  body: { flexGrow: 1, minHeight: 0, display: 'flex', flexDirection: 'column' },
  note: { padding: tokens.spacingHorizontalM },
  // A user with every role has five sections: in a narrow side panel they wrap instead of scrolling the tab sideways.
  sections: { flexWrap: 'wrap' },
});

type Section = 'matters' | 'search' | 'admin' | 'audit' | 'retention';

/**
 * The Teams tab. `?view=config` is the channel tab's configuration page; a channel tab bound to a
 * matter (`?matter=ID`, or the saved entity id) opens on that matter; the personal tab shows every
 * matter the user may see, search, and the admin, audit and retention views for those roles.
 */
export function App({ host }: { host: HostInfo }) {
  const styles = useStyles();
  const [signedIn, setSignedIn] = useState<SignedIn | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [section, setSection] = useState<Section>('matters');
  const params = new URLSearchParams(location.search);
  const boundMatter = Number(params.get('matter') ?? (host.kind === 'teams' ? host.entityId : null)) || null;

  useEffect(() => {
    const sources: TokenSource[] = host.kind === 'teams' ? [{ label: 'Teams single sign-on', getToken: () => host.getAuthToken() }] : [];
    signIn(sources).then(setSignedIn, (error: unknown) => setProblem(error instanceof Error ? error.message : String(error)));
  }, [host]);

  if (problem) {
    return (
      <MessageBar layout="multiline" intent="error" role="alert">
        <MessageBarBody>
          <MessageBarTitle>Could not sign in</MessageBarTitle>
          {problem}
        </MessageBarBody>
      </MessageBar>
    );
  }
  if (!signedIn) return <Spinner label="Signing in" />;
  const { me } = signedIn.session;

  return (
    <SessionProvider session={signedIn.session}>
      <div className={styles.root}>
        {signedIn.sandboxNotice && (
          <MessageBar layout="multiline" intent="warning">
            <MessageBarBody>
              <MessageBarTitle>Sandbox</MessageBarTitle>
              {signedIn.sandboxNotice}
            </MessageBarBody>
          </MessageBar>
        )}
        {params.get('view') === 'config' ? (
          <ConfigView host={host} />
        ) : boundMatter ? (
          <div className={styles.body}>
            <MattersView boundMatterId={boundMatter} />
          </div>
        ) : (
          <>
            <TabList className={styles.sections} selectedValue={section} onTabSelect={(_event, data) => setSection(data.value as Section)} aria-label="Sections" size="small">
              <Tab value="matters">Matters</Tab>
              <Tab value="search">Search</Tab>
              {me.can.admin && <Tab value="admin">Admin</Tab>}
              {me.roles.includes('ComplianceOfficer') && <Tab value="audit">Audit trail</Tab>}
              {me.can.holds && <Tab value="retention">Retention</Tab>}
            </TabList>
            <div className={styles.body}>
              {section === 'matters' && <MattersView boundMatterId={null} />}
              {section === 'search' && <SearchView />}
              {section === 'admin' && me.can.admin && <AdminView />}
              {section === 'audit' && me.roles.includes('ComplianceOfficer') && <AuditTrailView />}
              {section === 'retention' && me.can.holds && <RetentionView />}
            </div>
          </>
        )}
        {host.kind === 'none' && !signedIn.sandboxNotice && <Caption1 className={styles.note}>Not running inside Teams.</Caption1>}
      </div>
    </SessionProvider>
  );
}
