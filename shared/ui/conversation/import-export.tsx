import { Button, Caption1, Checkbox, Field, Input, makeStyles, MessageBar, MessageBarBody, shorthands, Text, tokens } from '@fluentui/react-components';
import type { ConversationDetail } from '@wa-bridge/shared/api/conversations';
import type { ImportSummary } from '@wa-bridge/shared/api/imports';
import { maxImportBytes } from '@wa-bridge/shared/api/imports';
import { ExportDecoder, parseChatExportText } from '@wa-bridge/shared/chat-export';
import { useRef, useState, type DragEvent } from 'react';
import { useSession } from '../api-context.js';
import { describeError, formatBytes } from '../format.js';
import { useZonePicker, ZonePicker, zonePickerError } from '../time-zones.js';

const useStyles = makeStyles({
  box: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS, padding: `${tokens.spacingVerticalXS} ${tokens.spacingHorizontalS}` },
  zone: {
    display: 'flex',
    flexWrap: 'wrap',
    alignItems: 'center',
    gap: tokens.spacingHorizontalS,
    padding: tokens.spacingHorizontalS,
    ...shorthands.border(tokens.strokeWidthThick, 'dashed', tokens.colorNeutralStroke1),
    borderRadius: tokens.borderRadiusMedium,
  },
  over: { ...shorthands.borderColor(tokens.colorBrandStroke1), backgroundColor: tokens.colorBrandBackground2 },
  hidden: { display: 'none' },
  facts: { margin: 0, paddingLeft: tokens.spacingHorizontalL },
  authors: { display: 'flex', flexDirection: 'column' },
  actions: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS },
});

/** Larger .txt files are sent without a preview (the server still checks them whole). */
const maxPreviewBytes = 32 * 1024 * 1024;

interface Preview {
  messages: number;
  first: string | null;
  last: string | null;
  /** Authors by message count, most first. */
  authors: Array<[string, number]>;
}

interface Chosen {
  file: File;
  preview: Preview | null;
}

/**
 * Brings a WhatsApp "Export chat" file into this conversation. A .txt is read here with the same
 * parser the server uses, so the user sees what it holds, and says who in it is the firm, before
 * anything is sent; a .zip is sent as it is and checked on the server. The drop zone and the
 * button lead to the one handler.
 */
export function ImportExport({ conversation, onImported }: { conversation: ConversationDetail; onImported(): void }) {
  const styles = useStyles();
  const { api } = useSession();
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const [chosen, setChosen] = useState<Chosen | null>(null);
  const [firm, setFirm] = useState<string[]>([]);
  const [firmText, setFirmText] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [summary, setSummary] = useState<ImportSummary | null>(null);
  const [busy, setBusy] = useState(false);
  // An export's times carry no zone: they are the phone's clock. The browser's zone is the usual
  // answer; a chat exported abroad, or by a phone set to another zone, needs the user to say.
  const zone = useZonePicker();
  const { valid: zoneValid, timeZone } = zone;

  const choose = async (file: File | undefined) => {
    if (!file) return;
    setProblem(null);
    setSummary(null);
    setChosen(null);
    if (!/\.(txt|zip)$/i.test(file.name)) return setProblem(`${file.name} is not a chat export: choose the .txt or .zip that WhatsApp's "Export chat" made.`);
    if (file.size > maxImportBytes) return setProblem(`${file.name} is ${formatBytes(file.size)}, more than the ${formatBytes(maxImportBytes)} this page takes; ask an admin to import it on the server.`);
    // A zip is unpacked on the server only; a very large text would hold the tab's memory to preview.
    if (/\.zip$/i.test(file.name) || file.size > maxPreviewBytes) return setChosen({ file, preview: null });
    try {
      const preview = previewOf(new Uint8Array(await file.arrayBuffer()));
      const others = preview.authors.map(([name]) => name).filter((name) => name !== conversation.client.name);
      // The usual chat of two, one of them the client by name: the other one is the firm.
      setFirm(preview.authors.length === 2 && others.length === 1 ? others : []);
      setChosen({ file, preview });
    } catch (error) {
      setProblem(`${file.name}: ${describeError(error)}`);
    }
  };

  const upload = async () => {
    if (!chosen || !zoneValid) return;
    setBusy(true);
    setProblem(null);
    try {
    const names = chosen.preview ? firm : firmText.split(',').map((name) => name.trim()).filter(Boolean);
      const result = await api.importExport(conversation.id, chosen.file, { fileName: chosen.file.name, timeZone, ...(names.length > 0 ? { firmAuthors: names.join(',') } : {}) });
      setSummary(result);
      setChosen(null);
      onImported();
    } catch (error) {
      setProblem(describeError(error));
    } finally {
      setBusy(false);
    }
  };

  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setOver(false);
    void choose(event.dataTransfer.files[0]);
  };

  return (
    <section className={styles.box} aria-label="Import a chat export">
      <div
        className={`${styles.zone} ${over ? styles.over : ''}`}
        data-testid="import-drop-zone"
        onDragOver={(event) => {
          event.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <Caption1>Drop a WhatsApp chat export here, or</Caption1>
        <Button size="small" onClick={() => input.current?.click()}>
          Import a chat export (.txt or .zip)
        </Button>
        <input
          ref={input}
          className={styles.hidden}
          type="file"
          accept=".txt,.zip,text/plain,application/zip"
          aria-label="Import a chat export (.txt or .zip)"
          onChange={(event) => {
            void choose(event.currentTarget.files?.[0]);
            event.currentTarget.value = '';
          }}
        />
      </div>
      {chosen && (
        <div className="import-preview" role="region" aria-label={`Preview of ${chosen.file.name}`}>
          <Text weight="semibold">
            {chosen.file.name} ({formatBytes(chosen.file.size)})
          </Text>
          {chosen.preview ? (
            <>
              <ul className={styles.facts}>
                <li>{chosen.preview.messages} messages</li>
                {chosen.preview.first && <li>from {chosen.preview.first.replace('T', ' ')} to {chosen.preview.last?.replace('T', ' ')} ({timeZone})</li>}
              </ul>
              <fieldset className={styles.authors}>
                <legend>Who in this chat is the firm?</legend>
                {chosen.preview.authors.map(([name, count]) => (
                  <Checkbox
                    key={name}
                    label={
                      <>
                        <bdi>{name}</bdi> ({count})
                      </>
                    }
                    checked={firm.includes(name)}
                    onChange={(_event, data) => setFirm((current) => (data.checked ? [...current, name] : current.filter((n) => n !== name)))}
                  />
                ))}
              </fieldset>
            </>
          ) : (
            <Field label="Names of the firm's people in the chat, comma-separated (if the client is not one of two)">
              <Input value={firmText} onChange={(_event, data) => setFirmText(data.value)} />
            </Field>
          )}
          <Field
            label="The export's times are the phone's clock in"
            validationState={zoneValid ? 'none' : 'error'}
            validationMessage={zoneValid ? undefined : zonePickerError}
          >
            <ZonePicker picker={zone} />
          </Field>
          <div className={styles.actions}>
            <Button appearance="primary" disabled={busy || !zoneValid} onClick={() => void upload()}>
              {busy ? 'Importing…' : 'Import'}
            </Button>
            <Button disabled={busy} onClick={() => setChosen(null)}>
              Cancel
            </Button>
          </div>
        </div>
      )}
      {problem && (
        <MessageBar layout="multiline" intent="error" role="alert">
          <MessageBarBody>{problem}</MessageBarBody>
        </MessageBar>
      )}
      {summary && (
        <MessageBar layout="multiline" intent={summary.warnings.length > 0 ? 'warning' : 'success'} role="status" className="import-summary">
          <MessageBarBody>
            Imported {summary.added} of {summary.messages} messages ({summary.duplicates} already archived
            {summary.mediaLinked + summary.mediaMissing > 0 ? `; media ${summary.mediaLinked} linked, ${summary.mediaMissing} not in the export` : ''}).
            {summary.warnings.length > 0 && (
              <>
                {' '}
                Check these times:
                <ul className="import-warnings">
                  {summary.warnings.map((warning) => (
                    <li key={warning}>{warning}</li>
                  ))}
                </ul>
              </>
            )}
          </MessageBarBody>
        </MessageBar>
      )}
    </section>
  );
}

/** What the export holds, read the way the server will read it. */
function previewOf(bytes: Uint8Array): Preview {
  const decoder = new ExportDecoder();
  const text = decoder.decode(bytes, true);
  const messages = parseChatExportText(text);
  const authors = new Map<string, number>();
  for (const m of messages) if (m.author !== null) authors.set(m.author, (authors.get(m.author) ?? 0) + 1);
  return {
    messages: messages.length,
    first: messages[0]?.date ?? null,
    last: messages.at(-1)?.date ?? null,
    authors: [...authors].sort((a, b) => b[1] - a[1]),
  };
}
