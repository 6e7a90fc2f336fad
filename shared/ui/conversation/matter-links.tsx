import { Badge, Button, Caption1, Combobox, Field, makeStyles, Option, tokens } from '@fluentui/react-components';
import type { ConversationDetail } from '@wa-bridge/shared/api/conversations';
import type { Matter } from '@wa-bridge/shared/api/matters';
import { useEffect, useState } from 'react';
import { useSession } from '../api-context.js';
import { describeError } from '../format.js';

const useStyles = makeStyles({
  box: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS, padding: `0 ${tokens.spacingHorizontalS}` },
  links: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalXS, alignItems: 'center', margin: 0, padding: 0, listStyle: 'none' },
  link: { display: 'flex', alignItems: 'center', gap: '2px' },
  picker: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS, alignItems: 'flex-end' },
  grow: { flexGrow: 1, minWidth: 0 },
  // Fluent's combobox keeps 250 px by default, more than a 320 px task pane leaves beside the button.
  combo: { minWidth: 0, width: '100%' },
  more: { alignSelf: 'flex-start' },
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
  // Once linked, the picker folds away behind a button: the pane is narrow and linking is rare.
  const [picking, setPicking] = useState(false);
  const showPicker = conversation.can.link && (picking || conversation.matters.length === 0);
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

  const run = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setProblem(null);
    try {
      await action();
      onChanged();
    } catch (error) {
      setProblem(describeError(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className={styles.box} aria-label="Matters">
      <ul className={styles.links}>
        <Caption1>Matter:</Caption1>
        {conversation.matters.length === 0 && <Caption1 className="no-matter">not linked</Caption1>}
        {conversation.matters.map((link) => (
          <li key={link.id} className={styles.link}>
            <Badge appearance="tint" color="brand" className="matter-ref" title={link.title}>
              {link.reference}
            </Badge>
            {conversation.can.link && (
              <Button size="small" appearance="subtle" disabled={busy} aria-label={`Unlink ${link.reference}`} onClick={() => void run(() => api.unlink(conversation.id, link.id))}>
                ✕
              </Button>
            )}
          </li>
        ))}
      </ul>
      {conversation.can.link && !showPicker && (
        <Button size="small" appearance="subtle" className={styles.more} onClick={() => setPicking(true)}>
          Link another matter
        </Button>
      )}
      {showPicker && (
        <div className={styles.picker}>
          <Field label="Link to matter" className={styles.grow}>
            <Combobox
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
                    {matter.reference} · {matter.title}
                  </Option>
                ))}
            </Combobox>
          </Field>
          <Button
            disabled={!chosen || busy}
            onClick={() =>
              void run(async () => {
                await api.link(conversation.id, chosen!.id);
                setChosen(null);
                setQuery('');
                setPicking(false);
              })
            }
          >
            Link
          </Button>
        </div>
      )}
      {(problem ?? listProblem) && (
        <Caption1 role="alert" className="matter-problem">
          {problem ?? listProblem}
        </Caption1>
      )}
    </section>
  );
}
