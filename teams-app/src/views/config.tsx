import { Body1, Caption1, Field, makeStyles, MessageBar, MessageBarBody, Select, Spinner, tokens } from '@fluentui/react-components';
import type { Matter } from '@wa-bridge/shared/api/matters';
import { useSession } from '@wa-bridge/shared/ui/api-context';
import { useEffect, useState } from 'react';
import type { HostInfo } from '../host/teams.js';

const useStyles = makeStyles({ box: { padding: tokens.spacingHorizontalM, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM, maxWidth: '480px' } });

/**
 * The channel tab's configuration page: choosing a matter binds the tab to it. Teams enables Save
 * once a matter is chosen; saving stores the matter id as the tab's entity id and its content URL.
 */
export function ConfigView({ host }: { host: HostInfo }) {
  const styles = useStyles();
  const { api } = useSession();
  const [matters, setMatters] = useState<Matter[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [chosen, setChosen] = useState('');

  useEffect(() => {
    api.listMatters({ state: 'open' }).then(
      (result) => setMatters(result.items),
      (error: unknown) => {
        setProblem(`The matters could not be loaded: ${error instanceof Error ? error.message : String(error)}`);
        setMatters([]);
      },
    );
  }, [api]);

  useEffect(() => {
    if (host.kind !== 'teams') return;
    const matter = matters?.find((item) => String(item.id) === chosen);
    host.configure(
      matter !== undefined,
      matter ? () => ({ entityId: String(matter.id), contentUrl: `${location.origin}/teams/index.html?view=channel&matter=${matter.id}`, suggestedDisplayName: `WhatsApp · ${matter.reference}` }) : undefined,
    );
  }, [host, matters, chosen]);

  if (!matters) return <Spinner label="Loading matters" />;
  return (
    <div className={styles.box}>
      <Body1>Choose the matter whose WhatsApp conversations this tab shows.</Body1>
      {problem && (
        <MessageBar layout="multiline" intent="error" role="alert">
          <MessageBarBody>{problem}</MessageBarBody>
        </MessageBar>
      )}
      {!problem && matters.length === 0 && <Caption1>No open matter you are on: create one in the personal tab first.</Caption1>}
      <Field label="Matter">
        <Select value={chosen} onChange={(_event, data) => setChosen(data.value)}>
          <option value="">Choose a matter</option>
          {matters.map((matter) => (
            <option key={matter.id} value={String(matter.id)}>
              {/* An option holds text only: the title is isolated by U+2068 … U+2069, so one in Arabic or Hebrew runs right to left without moving the reference. */}
              {matter.reference} · {'\u2068'}
              {matter.title}
              {'\u2069'}
            </option>
          ))}
        </Select>
      </Field>
      {host.kind !== 'teams' && <Caption1>Outside Teams there is nothing to save: this page is shown by Teams when the tab is added to a channel.</Caption1>}
    </div>
  );
}
