import { Button, Caption1, Input, makeStyles, mergeClasses, MessageBar, MessageBarBody, tokens } from '@fluentui/react-components';
import type { SearchHit } from '@wa-bridge/shared/api/search';
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useSession } from '../api-context.js';
import { describeError, formatTime } from '../format.js';
import { listStyles } from '../list-styles.js';
import { SearchSnippet } from '../search-snippet.js';

const useStyles = makeStyles({
  box: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS, padding: `0 ${tokens.spacingHorizontalS}` },
  form: { display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'center' },
  // The pane may be 320 px wide: the words take what the buttons leave.
  words: { flexGrow: 1, minWidth: 0 },
  hits: { listStyle: 'none', margin: 0, padding: 0, maxHeight: '35vh', overflowY: 'auto', borderBottom: `1px solid ${tokens.colorNeutralStroke1}` },
  // The list's row, tighter for a pane beside a conversation.
  hit: { padding: `${tokens.spacingVerticalXS} ${tokens.spacingHorizontalS}`, fontSize: tokens.fontSizeBase200 },
});

/** Hits read per request; "More results" reads the next ones. */
const pageSize = 20;

/**
 * Search within the conversation on show, for a pane that shows one conversation (the Outlook
 * task pane, a conversation opened in Teams): the words are matched as the tab's search matches
 * them, and choosing a hit opens the conversation at that message (`onPick`). The results fold
 * away once one is chosen and come back with "Back to results". Escape or Close ends the search
 * (`onClose`); the focus starts in the words.
 */
export function ConversationSearch({ conversationId, onPick, onClose }: { conversationId: number; onPick(hit: SearchHit): void; onClose(): void }) {
  const styles = useStyles();
  const list = listStyles();
  const { api } = useSession();
  const [words, setWords] = useState('');
  const [searched, setSearched] = useState('');
  const [hits, setHits] = useState<SearchHit[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [picked, setPicked] = useState<SearchHit | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const wordsRef = useRef<HTMLInputElement>(null);
  const listLabel = useId();

  const run = async (cursor?: string) => {
    const q = cursor ? searched : words.trim();
    if (!q) return;
    setBusy(true);
    setProblem(null);
    try {
      const result = await api.search({ q, conversationId, limit: pageSize, ...(cursor ? { cursor } : {}) });
      setSearched(q);
      setHits(cursor ? [...(hits ?? []), ...result.items] : result.items);
      setNextCursor(result.nextCursor);
      setPicked(null);
    } catch (error) {
      setProblem(describeError(error));
    } finally {
      setBusy(false);
    }
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run();
  };
  useEffect(() => wordsRef.current?.focus(), []);

  return (
    <div className={styles.box}>
      <form className={styles.form} role="search" aria-label="Search this conversation" onSubmit={submit}>
        <Input
          ref={wordsRef}
          className={styles.words}
          size="small"
          type="search"
          aria-label="Words to find in this conversation"
          placeholder="Words to find"
          value={words}
          onChange={(_event, data) => setWords(data.value)}
          onKeyDown={(event) => {
            if (event.key === 'Escape') onClose();
          }}
        />
        <Button size="small" appearance="primary" type="submit" disabled={!words.trim() || busy}>
          Find
        </Button>
        <Button size="small" appearance="subtle" onClick={onClose}>
          Close
        </Button>
      </form>
      {problem && (
        <MessageBar layout="multiline" intent="error" role="alert">
          <MessageBarBody>{problem}</MessageBarBody>
        </MessageBar>
      )}
      {hits && (
        <Caption1 role="status" className="search-count">
          {hits.length === 0 ? `No messages match “${searched}”.` : `${hits.length}${nextCursor ? '+' : ''} ${hits.length === 1 ? 'message matches' : 'messages match'} “${searched}”.`}
        </Caption1>
      )}
      {hits && picked && hits.length > 0 && (
        <Button size="small" appearance="subtle" className="back-to-results" onClick={() => setPicked(null)}>
          Back to results
        </Button>
      )}
      {hits && !picked && hits.length > 0 && (
        <>
          <span id={listLabel} hidden>
            Messages found
          </span>
          <ul className={styles.hits} aria-labelledby={listLabel}>
            {hits.map((hit) => (
              <li key={hit.messageId} className="search-hit">
                <button
                  type="button"
                  className={mergeClasses(list.row, styles.hit)}
                  onClick={() => {
                    setPicked(hit);
                    onPick(hit);
                  }}
                >
                  <span className={list.line}>
                    <Caption1>
                      {hit.direction === 'inbound' ? 'From the client' : 'From the firm'} · {formatTime(hit.sentAt)}
                    </Caption1>
                  </span>
                  <SearchSnippet hit={hit} />
                </button>
              </li>
            ))}
          </ul>
          {nextCursor && (
            <Button size="small" appearance="subtle" disabled={busy} onClick={() => void run(nextCursor)}>
              More results
            </Button>
          )}
        </>
      )}
    </div>
  );
}
