import { Badge, Button, Caption1, Combobox, Field, makeStyles, mergeClasses, Option, tokens } from '@fluentui/react-components';
import type { ConversationDetail } from '@wa-bridge/shared/api/conversations';
import type { Matter } from '@wa-bridge/shared/api/matters';
import { useEffect, useId, useRef, useState } from 'react';
import { useSession } from '../api-context.js';
import { describeError, isolate } from '../format.js';

const useStyles = makeStyles({
  box: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS, padding: `0 ${tokens.spacingHorizontalS}` },
  strip: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalXS, alignItems: 'center' },
  links: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalXS, alignItems: 'center', margin: 0, padding: 0, listStyle: 'none' },
  link: { display: 'flex', alignItems: 'center', gap: '2px' },
  picker: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS, alignItems: 'flex-end' },
  grow: { flexGrow: 1, minWidth: 0 },
  // Fluent's combobox keeps 250 px by default, more than a 320 px task pane leaves beside the button.
  combo: { minWidth: 0, width: '100%' },
  more: { alignSelf: 'flex-start' },
  // Read out, not shown: the strip above already shows the result.
  spoken: { position: 'absolute', width: '1px', height: '1px', overflow: 'hidden', clipPath: 'inset(50%)', whiteSpace: 'nowrap' },
});

/**
 * The matters this conversation belongs to now, and a picker to link it to another one. Ending a
 * link keeps it in the conversation's history on the server.
 */
export function MatterLinks({ conversation, onChanged }: { conversation: ConversationDetail; onChanged(): void }) {
  const styles = useStyles();
  const { api } = useSession();
  const [matters, setMatters] = useState<Matter[]>([]);
  const [query, setQuery] = useState('');
  const [chosen, setChosen] = useState<Matter | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // What the last link or unlink changed, spoken once it is done.
  const [done, setDone] = useState('');
  const strip = useRef<HTMLDivElement>(null);
  const labelId = useId();
  // The picker folds away behind a button (beside "not linked" while there is no matter): a 320 px
  // task pane keeps that room for the messages, and linking is done once per matter.
  const [picking, setPicking] = useState(false);
  const showPicker = conversation.can.link && picking;
  const opener = useRef<HTMLButtonElement>(null);
  const combo = useRef<HTMLInputElement>(null);
  // Opened: the focus goes to the picker. Cancelled: back to the button that opened it.
  const backToOpener = useRef(false);
  useEffect(() => {
    if (picking) combo.current?.focus();
    else if (backToOpener.current) opener.current?.focus();
    backToOpener.current = false;
  }, [picking]);
  const cancel = () => {
    backToOpener.current = true;
    setPicking(false);
    setQuery('');
    setChosen(null);
  };
  const linkedIds = new Set(conversation.matters.map((link) => link.matterId));

  // Loading the matters to pick from fails while the bridge is away: said until a later try works.
  const [listProblem, setListProblem] = useState<string | null>(null);
  const [tries, setTries] = useState(0);
  useEffect(() => {
    if (!conversation.can.link) return;
    let cancelled = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const timer = setTimeout(() => {
      api.listMatters({ state: 'open', ...(query.trim() ? { q: query.trim() } : {}) }).then(
        (list) => {
          if (cancelled) return;
          setMatters(list.items);
          setListProblem(null);
        },
        (error: unknown) => {
          if (cancelled) return;
          setListProblem(describeError(error));
          retry = setTimeout(() => setTries((count) => count + 1), 5000);
        },
      );
    }, 200);
    return () => {
      cancelled = true;
      clearTimeout(timer);
      if (retry) clearTimeout(retry);
    };
  }, [api, query, conversation.can.link, tries]);

  // The Link and Unlink buttons go away once they have done their work, and the focus would fall
  // to the page: it moves to the list of matters, which stays, and the change is said.
  const run = async (action: () => Promise<unknown>, outcome: string) => {
    setBusy(true);
    setProblem(null);
    setDone('');
    try {
      await action();
      strip.current?.focus();
      setDone(outcome);
      onChanged();
    } catch (error) {
      setProblem(describeError(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className={styles.box} aria-label="Matters">
      <div ref={strip} className={mergeClasses(styles.strip, 'matter-strip')} role="group" aria-labelledby={labelId} tabIndex={-1}>
        <Caption1 id={labelId}>Matter:</Caption1>
        {conversation.matters.length === 0 ? (
          <>
            <Caption1 className="no-matter">not linked</Caption1>
            {conversation.can.link && !showPicker && (
              <Button ref={opener} size="small" appearance="subtle" onClick={() => setPicking(true)}>
                Link to a matter
              </Button>
            )}
          </>
        ) : (
          <ul className={styles.links} aria-labelledby={labelId}>
            {conversation.matters.map((link) => (
              <li key={link.id} className={styles.link}>
                {/* A tooltip is plain text: the title is isolated there as dir="auto" isolates it in markup. */}
                <Badge appearance="tint" color="brand" className="matter-ref" title={isolate(link.title)}>
                  {link.reference}
                </Badge>
                {conversation.can.link && (
                  <Button size="small" appearance="subtle" disabled={busy} aria-label={`Unlink ${link.reference}`} onClick={() => void run(() => api.unlink(conversation.id, link.id), `Unlinked from ${link.reference}.`)}>
                    ✕
                  </Button>
                )}
              </li>
            ))}
          </ul>
        )}
      </div>
      {conversation.can.link && !showPicker && conversation.matters.length > 0 && (
        <Button ref={opener} size="small" appearance="subtle" className={styles.more} onClick={() => setPicking(true)}>
          Link another matter
        </Button>
      )}
      {showPicker && (
        <div className={styles.picker}>
          <Field label="Link to matter" className={styles.grow}>
            <Combobox
              ref={combo}
              className={styles.combo}
              freeform
              placeholder="Reference or title"
              value={query}
              onChange={(event) => {
                setQuery(event.target.value);
                setChosen(null);
              }}
              onOptionSelect={(_event, data) => {
                const matter = matters.find((item) => String(item.id) === data.optionValue) ?? null;
                setChosen(matter);
                setQuery(matter ? `${matter.reference} · ${matter.title}` : '');
              }}
            >
              {matters
                .filter((matter) => !linkedIds.has(matter.id))
                .map((matter) => (
                  <Option key={matter.id} value={String(matter.id)} text={`${matter.reference} · ${matter.title}`}>
                    {/* One box: the option lays out its children side by side. */}
                    <span>
                      {matter.reference} ·{' '}
                      <span dir="auto" className="matter-title">
                        {matter.title}
                      </span>
                    </span>
                  </Option>
                ))}
            </Combobox>
          </Field>
          <Button
            disabled={!chosen || busy}
            onClick={() => {
              const matter = chosen!;
              void run(async () => {
                await api.link(conversation.id, matter.id);
                setChosen(null);
                setQuery('');
                setPicking(false);
              }, `Linked to ${matter.reference}.`);
            }}
          >
            Link
          </Button>
          <Button appearance="subtle" onClick={cancel}>
            Cancel
          </Button>
        </div>
      )}
      <span className={mergeClasses(styles.spoken, 'matter-done')} role="status">
        {done}
      </span>
      {(problem ?? listProblem) && (
        <Caption1 role="alert" className="matter-problem">
          {problem ?? listProblem}
        </Caption1>
      )}
    </section>
  );
}
