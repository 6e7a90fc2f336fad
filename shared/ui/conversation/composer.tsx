import { Button, Caption1, Field, Input, makeStyles, mergeClasses, MessageBar, MessageBarBody, Select, Textarea, tokens } from '@fluentui/react-components';
import { ApiError } from '@wa-bridge/shared/api/client';
import type { ReplyFile, WindowState } from '@wa-bridge/shared/api/conversations';
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useSession } from '../api-context.js';
import { describeError, formatBytes, formatTime } from '../format.js';

const useStyles = makeStyles({
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS, padding: tokens.spacingHorizontalS, borderTop: `1px solid ${tokens.colorNeutralStroke2}` },
  actions: { display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'center', flexWrap: 'wrap' },
  grow: { flexGrow: 1 },
  // A field as wide as the pane, however narrow: Fluent's Input would otherwise keep its own minimum width.
  parameter: { width: '100%', minWidth: 0, boxSizing: 'border-box' },
  files: { display: 'flex', flexDirection: 'column', gap: '2px', margin: 0, padding: 0, listStyle: 'none' },
  file: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalXS, overflowWrap: 'anywhere' },
  quote: { display: 'flex', alignItems: 'flex-start', gap: tokens.spacingHorizontalXS, borderLeft: `3px solid ${tokens.colorBrandStroke1}`, paddingLeft: tokens.spacingHorizontalS },
  quoteText: { display: 'flex', flexDirection: 'column', flexGrow: 1, minWidth: 0 },
  quoteSender: { fontWeight: tokens.fontWeightSemibold, color: tokens.colorNeutralForeground2 },
  // Two lines at most: enough to recognise the message, short enough for a narrow pane.
  quoteBody: { display: '-webkit-box', WebkitLineClamp: 2, WebkitBoxOrient: 'vertical', overflow: 'hidden', overflowWrap: 'anywhere', color: tokens.colorNeutralForeground2 },
  // Read by screen readers, not shown.
  spoken: { position: 'absolute', width: '1px', height: '1px', overflow: 'hidden', clip: 'rect(0 0 0 0)', whiteSpace: 'nowrap' },
});

// WhatsApp's text limit, counted as the API's schema counts it (UTF-16 code units), so an emoji
// never slips past the counter and fails on the server.
const maxText = 4096;
const maxFiles = 10;
const maxTotalBytes = 18 * 1024 * 1024;

/** A message the reply will quote (WhatsApp shows it above the reply, as a reply to it). */
export interface QuotedMessage {
  waMessageId: string;
  sender: string;
  /** Its text, or what it carries ("A file"). */
  text: string;
}

export interface ComposerProps {
  conversationId: number;
  window: WindowState;
  onWindowChange(window: WindowState): void;
  onSent(): void;
  /** The message the next reply quotes; cleared with onQuoteCleared (by the user, or once it is sent). */
  quote?: QuotedMessage | null | undefined;
  onQuoteCleared?: (() => void) | undefined;
}

/**
 * Reply box: text with attachments while WhatsApp's 24-hour window is open; once it has closed,
 * only an approved template, with a required field for each of its parameters, and the pane says
 * when the window closed. A 409 window_closed from the bridge switches modes on the spot with the
 * templates it lists.
 */
export function Composer({ conversationId, window, onWindowChange, onSent, quote, onQuoteCleared }: ComposerProps) {
  const styles = useStyles();
  const { api } = useSession();
  const [text, setText] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [template, setTemplate] = useState('');
  // The chosen template's parameters, one per label, in order.
  const [parameters, setParameters] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const textBox = useRef<HTMLTextAreaElement>(null);
  const closed = window.state === 'closed';
  // A quote is for a free-form reply: a template goes without one.
  const quoted = closed ? null : (quote ?? null);

  // Choosing a message to quote takes the user to the reply box (on a new quote only).
  const quotedId = quoted?.waMessageId;
  useEffect(() => {
    if (quotedId) textBox.current?.focus();
  }, [quotedId]);
  const chosen = window.templates.find((item) => `${item.name}|${item.language}` === template);
  const labels = chosen?.parameterLabels ?? [];
  const parametersFilled = labels.every((_label, index) => (parameters[index] ?? '').trim() !== '');
  const totalBytes = files.reduce((sum, file) => sum + file.size, 0);
  const tooLong = text.length > maxText;
  const tooBig = totalBytes > maxTotalBytes;
  const canSend = !busy && (closed ? chosen !== undefined && parametersFilled : (text.trim() !== '' || files.length > 0) && !tooLong && !tooBig);

  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    if (!canSend) return;
    setBusy(true);
    setProblem(null);
    setNotice(null);
    try {
      const clientRef = crypto.randomUUID();
      if (closed) {
        if (!chosen) throw new Error('Choose a template.');
        await api.reply(conversationId, { template: { name: chosen.name, language: chosen.language, parameters: labels.map((_label, index) => parameters[index] ?? '') }, clientRef });
        setTemplate('');
        setParameters([]);
      } else {
        const encoded: ReplyFile[] = await Promise.all(files.map(toReplyFile));
        await api.reply(conversationId, { ...(text.trim() ? { text } : {}), files: encoded, ...(quoted ? { quotedWaMessageId: quoted.waMessageId } : {}), clientRef });
        setText('');
        setFiles([]);
        if (quoted) onQuoteCleared?.();
      }
      setNotice('Reply queued for WhatsApp.');
      setTimeout(() => setNotice(null), 5000);
      onSent();
    } catch (error) {
      if (error instanceof ApiError && error.code === 'window_closed') {
        onWindowChange({ ...window, state: 'closed', closesAt: error.problem.closesAt ?? window.closesAt, templates: error.problem.templates ?? window.templates });
      }
      setProblem(describeError(error));
    } finally {
      setBusy(false);
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) void submit();
  };

  return (
    <form className={styles.form} onSubmit={(event) => void submit(event)} aria-label="Reply to the client">
      {window.state === 'open' && window.closesAt && <Caption1 className="window-state">WhatsApp window open until {formatTime(window.closesAt)}.</Caption1>}
      {closed ? (
        <>
          <MessageBar layout="multiline" intent="warning" className="window-closed">
            <MessageBarBody>
              The 24-hour window {window.closesAt ? `closed at ${formatTime(window.closesAt)}` : 'is closed (the client has not written yet)'}. WhatsApp only accepts an approved template until the client writes again.
            </MessageBarBody>
          </MessageBar>
          <Field label="Template">
            <Select
              value={template}
              onChange={(_event, data) => {
                setTemplate(data.value);
                setParameters([]);
              }}
              disabled={window.templates.length === 0}
            >
              <option value="">{window.templates.length === 0 ? 'No templates configured' : 'Choose a template'}</option>
              {window.templates.map((item) => (
                <option key={`${item.name}|${item.language}`} value={`${item.name}|${item.language}`}>
                  {item.name} ({item.language})
                </option>
              ))}
            </Select>
          </Field>
          {labels.map((label, index) => (
            <Field key={`${template}|${index}`} label={label} required className="template-parameter">
              <Input
                className={styles.parameter}
                value={parameters[index] ?? ''}
                maxLength={1024}
                onChange={(_event, data) => setParameters(labels.map((_other, at) => (at === index ? data.value : (parameters[at] ?? ''))))}
              />
            </Field>
          ))}
        </>
      ) : (
        <>
          {quoted && (
            <div className={mergeClasses(styles.quote, 'reply-quote')} role="group" aria-label="Quoted in your reply">
              <div className={styles.quoteText}>
                <Caption1 className={styles.quoteSender}>
                  {/* The name in its own direction: an Arabic or Hebrew one runs right to left inside the English line. */}
                  Replying to <bdi>{quoted.sender}</bdi>
                </Caption1>
                <Caption1 dir="auto" className={mergeClasses(styles.quoteBody, 'reply-quote-text')}>
                  {quoted.text}
                </Caption1>
              </div>
              <Button size="small" appearance="subtle" aria-label="Do not quote this message" onClick={() => onQuoteCleared?.()}>
                ✕
              </Button>
            </div>
          )}
          <Field label="Reply" validationState={tooLong ? 'error' : 'none'} validationMessage={tooLong ? `Too long by ${text.length - maxText} characters.` : undefined} hint="Ctrl+Enter sends.">
            <Textarea
              ref={textBox}
              value={text}
              onChange={(_event, data) => setText(data.value)}
              onKeyDown={(event) => {
                if (event.key === 'Escape' && quoted) onQuoteCleared?.();
                onKeyDown(event);
              }}
              resize="vertical"
              rows={3}
            />
          </Field>
          {files.length > 0 && (
            <ul className={styles.files} aria-label="Attachments">
              {files.map((file, index) => (
                <li key={`${file.name}-${index}`} className={styles.file}>
                  <Caption1>
                    📎 {file.name} {formatBytes(file.size)}
                  </Caption1>
                  <Button size="small" appearance="subtle" aria-label={`Remove ${file.name}`} onClick={() => setFiles(files.filter((_, at) => at !== index))}>
                    Remove
                  </Button>
                </li>
              ))}
            </ul>
          )}
          {tooBig && <Caption1 role="alert">Attachments may total {formatBytes(maxTotalBytes)}.</Caption1>}
        </>
      )}
      <div className={styles.actions}>
        {!closed && (
          <>
            <input
              ref={fileInput}
              type="file"
              multiple
              hidden
              aria-label="Attach files"
              onChange={(event) => {
                const chosen = [...(event.target.files ?? [])];
                setFiles([...files, ...chosen].slice(0, maxFiles));
                event.target.value = '';
              }}
            />
            <Button appearance="secondary" onClick={() => fileInput.current?.click()} disabled={files.length >= maxFiles}>
              Attach
            </Button>
          </>
        )}
        {/* Not a live region: read out on every key it would drown what is typed. Near the limit, a
            polite note says how much is left, once per change of that note. */}
        <Caption1 className={styles.grow}>{!closed && `${text.length}/${maxText}`}</Caption1>
        <span className={mergeClasses(styles.spoken, 'limit-note')} aria-live="polite">
          {!closed && text.length > maxText ? `${text.length - maxText} characters over the limit` : !closed && text.length >= maxText - 100 ? 'Under 100 characters left' : ''}
        </span>
        <Button appearance="primary" type="submit" disabled={!canSend}>
          {closed ? 'Send template' : 'Send'}
        </Button>
      </div>
      {problem && (
        <MessageBar layout="multiline" intent="error" role="alert">
          <MessageBarBody>{problem}</MessageBarBody>
        </MessageBar>
      )}
      {notice && (
        <Caption1 role="status" className="composer-status">
          {notice}
        </Caption1>
      )}
    </form>
  );
}

async function toReplyFile(file: File): Promise<ReplyFile> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let at = 0; at < bytes.length; at += 0x8000) binary += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
  return { fileName: file.name, mimeType: file.type || 'application/octet-stream', contentBase64: btoa(binary) };
}
