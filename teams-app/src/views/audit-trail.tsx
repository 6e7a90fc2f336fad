import { Body1Strong, Button, Caption1, Field, Input, makeStyles, MessageBar, MessageBarBody, Spinner, tokens } from '@fluentui/react-components';
import type { AuditEntryItem, AuditQuery } from '@wa-bridge/shared/api/audit';
import { useSession } from '@wa-bridge/shared/ui/api-context';
import { describeError } from '@wa-bridge/shared/ui/format';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { listStyles } from '@wa-bridge/shared/ui/list-styles';
import { saveBlob } from './export-evidence.js';

const useStyles = makeStyles({
  pane: { display: 'flex', flexDirection: 'column', flexGrow: 1, minHeight: 0 },
  form: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS, padding: tokens.spacingHorizontalS, alignItems: 'flex-end' },
  entry: { display: 'flex', flexDirection: 'column', gap: '2px', padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalM}`, borderBottom: `1px solid ${tokens.colorNeutralStroke2}` },
  details: { color: tokens.colorNeutralForeground3, overflowWrap: 'anywhere' },
  hash: { fontFamily: tokens.fontFamilyMonospace, color: tokens.colorNeutralForeground3 },
  saved: { padding: `0 ${tokens.spacingHorizontalS}` },
});

/**
 * The audit trail for compliance officers (the bridge serves it to no one else): who read or
 * changed what, when and from where, oldest first over the chosen days, filtered by person, action
 * or target, and every entry the filter matches downloadable as CSV. Reading it is itself
 * recorded by the bridge.
 */
export function AuditTrailView() {
  const styles = useStyles();
  const list = listStyles();
  const { api } = useSession();
  const [day, setDay] = useState(() => new Date(Date.now() - 24 * 3600_000).toISOString().slice(0, 10));
  // Empty: up to now.
  const [lastDay, setLastDay] = useState('');
  const [actor, setActor] = useState('');
  const [action, setAction] = useState('');
  const [target, setTarget] = useState('');
  const [entries, setEntries] = useState<AuditEntryItem[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  /** The form's filter, as the API takes it. */
  const filter = useCallback(
    (): AuditQuery => ({
      ...(day ? { from: new Date(`${day}T00:00:00`).toISOString() } : {}),
      // The whole of the last day, in the user's own time.
      ...(lastDay ? { to: new Date(`${lastDay}T23:59:59.999`).toISOString() } : {}),
      ...(actor.trim() ? { actor: actor.trim() } : {}),
      ...(action.trim() ? { action: action.trim() } : {}),
      ...(target.trim() ? { target: target.trim() } : {}),
    }),
    [day, lastDay, actor, action, target],
  );
  const load = useCallback(
    async (cursor?: string) => {
      const query: AuditQuery = { ...filter(), ...(cursor ? { cursor } : {}), limit: 100 };
      try {
        const page = await api.audit(query);
        setEntries((current) => (cursor ? [...(current ?? []), ...page.items] : page.items));
        setNextCursor(page.nextCursor);
        setProblem(null);
      } catch (error) {
        setProblem(describeError(error));
      }
    },
    [api, filter],
  );

  // Every entry the filter matches, as one CSV file (the columns of `wa-bridge audit --format csv`).
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  // ISO dates compare as text.
  const backwards = day !== '' && lastDay !== '' && lastDay < day;
  const rangeProblem = 'The last day comes before the first: change one of them.';
  const download = async () => {
    if (backwards) return setProblem(rangeProblem);
    setSaving(true);
    setSaved(null);
    try {
      const { csv, fileName } = await api.auditCsv(filter());
      const name = fileName ?? 'audit.csv';
      saveBlob(csv, name);
      setSaved(name);
      setProblem(null);
    } catch (error) {
      setProblem(describeError(error));
    } finally {
      setSaving(false);
    }
  };

  // Only the first load is automatic; later ones follow the form's Show button.
  const [loadedOnce, setLoadedOnce] = useState(false);
  useEffect(() => {
    if (loadedOnce) return;
    setLoadedOnce(true);
    void load();
  }, [loadedOnce, load]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (backwards) return setProblem(rangeProblem);
    void load();
  };

  return (
    <div className={styles.pane}>
      <form className={styles.form} onSubmit={submit} aria-label="Filter the audit trail">
        <Field label="From day">
          <Input type="date" value={day} onChange={(_event, data) => setDay(data.value)} />
        </Field>
        <Field label="To day" hint="Empty: up to now">
          <Input type="date" value={lastDay} onChange={(_event, data) => setLastDay(data.value)} />
        </Field>
        <Field label="Person">
          <Input value={actor} onChange={(_event, data) => setActor(data.value)} placeholder="name@firm.example" />
        </Field>
        <Field label="Action">
          <Input value={action} onChange={(_event, data) => setAction(data.value)} placeholder="reply, matter.link…" />
        </Field>
        <Field label="Target">
          <Input value={target} onChange={(_event, data) => setTarget(data.value)} placeholder="matter:SMI-2026-0042" />
        </Field>
        <Button appearance="primary" type="submit">
          Show
        </Button>
        <Button disabled={saving} onClick={() => void download()}>
          Download CSV
        </Button>
      </form>
      {saving && <Spinner size="tiny" labelPosition="after" label="Reading every matching entry…" />}
      {saved && (
        <Caption1 role="status" className={styles.saved}>
          Saved {saved}: every entry these filters match.
        </Caption1>
      )}
      {problem && (
        <MessageBar layout="multiline" intent="error" role="alert">
          <MessageBarBody>{problem}</MessageBarBody>
        </MessageBar>
      )}
      {!entries && !problem && <Spinner label="Loading the audit trail" />}
      {entries && entries.length === 0 && <Caption1 className={list.empty}>Nothing recorded for these filters.</Caption1>}
      {/* Its entries hold nothing to focus: the list itself takes the focus, so the keyboard can scroll it. */}
      <ol className={list.list} aria-label="Audit trail" tabIndex={0}>
        {entries?.map((entry) => (
          <li key={entry.id} className={`${styles.entry} audit-entry`} data-action={entry.action}>
            <span className={list.line}>
              <Body1Strong>{entry.action}</Body1Strong>
              {entry.target && <Caption1 className="audit-target">{entry.target}</Caption1>}
            </span>
            <Caption1>
              <time dateTime={entry.at}>{new Date(entry.at).toLocaleString()}</time> ·{' '}
              {entry.actorName ? (
                <>
                  <bdi>{entry.actorName}</bdi> ({entry.actor})
                </>
              ) : (
                entry.actor
              )}{' '}
              · {entry.source}
            </Caption1>
            {Object.keys(entry.details).length > 0 && (
              <Caption1 className={styles.details}>
                {Object.entries(entry.details)
                  .map(([key, value]) => `${key}: ${String(value)}`)
                  .join(' · ')}
              </Caption1>
            )}
            <Caption1 className={styles.hash} title="This entry's link in the audit trail's hash chain">
              {entry.entrySha256.slice(0, 16)}…
            </Caption1>
          </li>
        ))}
      </ol>
      {nextCursor && (
        <Button appearance="subtle" onClick={() => void load(nextCursor)}>
          More entries
        </Button>
      )}
    </div>
  );
}
