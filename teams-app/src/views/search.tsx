import { Body1Strong, Button, Caption1, Field, Input, makeStyles, MessageBar, MessageBarBody, Select, tokens } from '@fluentui/react-components';
import type { SearchHit, SearchQuery } from '@wa-bridge/shared/api/search';
import type { Matter } from '@wa-bridge/shared/api/matters';
import { useSession } from '@wa-bridge/shared/ui/api-context';
import { ConversationView } from '@wa-bridge/shared/ui/conversation-view';
import { SearchSnippet } from '@wa-bridge/shared/ui/search-snippet';
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { listStyles } from '@wa-bridge/shared/ui/list-styles';
import { ExportEvidence, mayExportEvidence } from './export-evidence.js';
import { useLevelChange } from './use-level-change.js';

const useStyles = makeStyles({
  form: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS, padding: tokens.spacingHorizontalS, alignItems: 'flex-end' },
  query: { flexGrow: 1, minWidth: '180px' },
  pane: { display: 'flex', flexDirection: 'column', flexGrow: 1, minHeight: 0 },
  export: { padding: `0 ${tokens.spacingHorizontalS} ${tokens.spacingVerticalS}` },
});

/** Full-text search over the messages the user may see, with the API's filters. */
export function SearchView() {
  const styles = useStyles();
  const list = listStyles();
  const { api, me } = useSession();
  const [q, setQ] = useState('');
  const [matterId, setMatterId] = useState('');
  const [client, setClient] = useState('');
  const [direction, setDirection] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [matters, setMatters] = useState<Matter[]>([]);
  const [hits, setHits] = useState<SearchHit[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  /** The hit being read: its conversation, opened at the message. */
  const [open, setOpen] = useState<SearchHit | null>(null);
  const [showFilters, setShowFilters] = useState(false);
  const { container, announcement } = useLevelChange(open);
  /** The results or the hit being read, with what moving between them needs. */
  const level = (shown: ReactNode) => (
    <div ref={container} style={{ display: 'contents' }}>
      {announcement}
      {shown}
    </div>
  );
  const activeFilters = [matterId, client.trim(), direction, from, to].filter(Boolean).length;

  useEffect(() => {
    api.listMatters({ state: 'all' }).then((result) => setMatters(result.items), () => setMatters([]));
  }, [api]);

  const query = (cursor?: string): SearchQuery => ({
    q: q.trim(),
    ...(matterId ? { matterId: Number(matterId) } : {}),
    ...(client.trim() ? { client: client.trim() } : {}),
    ...(direction ? { direction: direction as 'inbound' | 'outbound' } : {}),
    ...(from ? { from: new Date(`${from}T00:00:00`).toISOString() } : {}),
    ...(to ? { to: new Date(`${to}T23:59:59.999`).toISOString() } : {}),
    ...(cursor ? { cursor } : {}),
  });

  const run = async (event?: FormEvent, cursor?: string) => {
    event?.preventDefault();
    if (!q.trim()) return;
    setProblem(null);
    try {
      const result = await api.search(query(cursor));
      setHits(cursor ? [...(hits ?? []), ...result.items] : result.items);
      setNextCursor(result.nextCursor);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    }
  };

  if (open !== null) {
    return level(
      <div className={styles.pane}>
        <div className={styles.form}>
          <Button appearance="subtle" onClick={() => setOpen(null)}>
            ← Back to results
          </Button>
        </div>
        {mayExportEvidence(me.roles) && (
          <div className={styles.export}>
            <ExportEvidence key={open.conversationId} scope={{ conversationId: open.conversationId }} />
          </div>
        )}
        <ConversationView key={open.messageId} conversationId={open.conversationId} show={{ id: open.messageId, why: 'Found by the search' }} />
      </div>,
    );
  }

  return level(
    <div className={styles.pane}>
      <h2 className={list.spoken}>Search</h2>
      <form className={styles.form} onSubmit={(event) => void run(event)} role="search" aria-label="Search messages">
        <Field label="Words" className={styles.query}>
          <Input value={q} onChange={(_event, data) => setQ(data.value)} type="search" />
        </Field>
        <Button appearance="primary" type="submit" disabled={!q.trim()}>
          Search
        </Button>
        <Button appearance="subtle" aria-expanded={showFilters} onClick={() => setShowFilters(!showFilters)}>
          Filters{activeFilters > 0 ? ` (${activeFilters})` : ''}
        </Button>
      </form>
      {showFilters && (
        <div className={styles.form} role="group" aria-label="Search filters">
          <Field label="Matter">
            <Select value={matterId} onChange={(_event, data) => setMatterId(data.value)}>
              <option value="">Any</option>
              {matters.map((matter) => (
                <option key={matter.id} value={String(matter.id)}>
                  {matter.reference}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Client">
            <Input value={client} onChange={(_event, data) => setClient(data.value)} placeholder="Name or number" />
          </Field>
          <Field label="Direction">
            <Select value={direction} onChange={(_event, data) => setDirection(data.value)}>
              <option value="">Both</option>
              <option value="inbound">From the client</option>
              <option value="outbound">From the firm</option>
            </Select>
          </Field>
          <Field label="From">
            <Input type="date" value={from} onChange={(_event, data) => setFrom(data.value)} />
          </Field>
          <Field label="To">
            <Input type="date" value={to} onChange={(_event, data) => setTo(data.value)} />
          </Field>
        </div>
      )}
      {problem && (
        <MessageBar layout="multiline" intent="error" role="alert">
          <MessageBarBody>{problem}</MessageBarBody>
        </MessageBar>
      )}
      {hits && (
        <Caption1 className={list.empty} role="status">
          {hits.length === 0 ? 'No messages match.' : `${hits.length}${nextCursor ? '+' : ''} matching messages`}
        </Caption1>
      )}
      <ul className={list.list} aria-label="Search results">
        {hits?.map((hit) => (
          <li key={hit.messageId} className="search-hit">
            <button type="button" className={list.row} onClick={() => setOpen(hit)}>
              <span className={list.line}>
                <Body1Strong className="client-name" dir="auto">
                  {hit.clientName ?? 'Client'}
                </Body1Strong>
                <Caption1>
                  {hit.direction === 'inbound' ? 'from the client' : 'from the firm'} · {new Date(hit.sentAt).toLocaleString()}
                  {hit.matters.length > 0 && ` · ${hit.matters.join(', ')}`}
                </Caption1>
              </span>
              <SearchSnippet hit={hit} />
            </button>
          </li>
        ))}
      </ul>
      {nextCursor && (
        <Button appearance="subtle" onClick={() => void run(undefined, nextCursor)}>
          More results
        </Button>
      )}
    </div>,
  );
}
