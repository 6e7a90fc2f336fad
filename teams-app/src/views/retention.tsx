import { Badge, Body1Strong, Button, Caption1, Field, Input, makeStyles, MessageBar, MessageBarBody, Radio, RadioGroup, Select, Spinner, Tab, TabList, tokens } from '@fluentui/react-components';
import type { DeletionCertificate } from '@wa-bridge/shared/api/holds';
import { useSession } from '@wa-bridge/shared/ui/api-context';
import { toFormProblem, type FormProblem } from '@wa-bridge/shared/ui/field-errors';
import { conversationName, day, PlaceHoldButton } from '@wa-bridge/shared/ui/holds';
import { listStyles } from '@wa-bridge/shared/ui/list-styles';
import { useZonePicker, ZonePicker, zonePickerError } from '@wa-bridge/shared/ui/time-zones';
import { useState, type FormEvent } from 'react';
import { BundleOutcome, saveBlob } from './export-evidence.js';
import { LegalHoldsView } from './legal-holds.js';
import { useHoldChanges } from './use-hold-changes.js';
import { useLoaded } from './use-loaded.js';

const useStyles = makeStyles({
  root: { display: 'flex', flexDirection: 'column', flexGrow: 1, minHeight: 0 },
  bar: { display: 'flex', gap: tokens.spacingHorizontalS, padding: tokens.spacingHorizontalS, alignItems: 'flex-end', flexWrap: 'wrap' },
  note: { padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalM}`, borderBottom: `1px solid ${tokens.colorNeutralStroke2}` },
  entry: { display: 'flex', flexDirection: 'column', gap: '2px', padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalM}`, borderBottom: `1px solid ${tokens.colorNeutralStroke2}` },
  line: { display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'center', flexWrap: 'wrap' },
  quiet: { color: tokens.colorNeutralForeground3, overflowWrap: 'anywhere' },
  hash: { fontFamily: tokens.fontFamilyMonospace, color: tokens.colorNeutralForeground3, overflowWrap: 'anywhere' },
  button: { alignSelf: 'flex-start' },
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS, padding: tokens.spacingHorizontalM },
  parts: { flexWrap: 'wrap' },
});

type Part = 'holds' | 'due' | 'deleted' | 'subject';

/**
 * Compliance officers: the legal holds, what retention deletes soon (so a hold can still be
 * placed), the deletion certificates of what it deleted, and subject access exports.
 */
export function RetentionView() {
  const styles = useStyles();
  const [part, setPart] = useState<Part>('holds');
  return (
    <div className={styles.root}>
      <TabList className={styles.parts} selectedValue={part} onTabSelect={(_event, data) => setPart(data.value as Part)} aria-label="Retention" size="small">
        <Tab value="holds">Legal holds</Tab>
        <Tab value="due">Due for deletion</Tab>
        <Tab value="deleted">Deleted</Tab>
        <Tab value="subject">Subject access</Tab>
      </TabList>
      {part === 'holds' && <LegalHoldsView />}
      {part === 'due' && <DueForDeletion />}
      {part === 'deleted' && <DeletionCertificates />}
      {part === 'subject' && <SubjectAccess />}
    </div>
  );
}

function DueForDeletion() {
  const styles = useStyles();
  const list = listStyles();
  const { api } = useSession();
  const [days, setDays] = useState(90);
  const { value: items, problem, reload } = useLoaded(async () => (await api.retentionDue({ days })).items, [api, days]);
  // A hold placed or released by another officer takes a conversation off the list or puts it back.
  useHoldChanges(reload);

  const now = Date.now();
  return (
    <div className={styles.root}>
      <div className={styles.bar}>
        <Field label="Deleted within">
          <Select value={String(days)} onChange={(_event, data) => setDays(Number(data.value))}>
            <option value="0">the next run (due now)</option>
            <option value="30">30 days</option>
            <option value="90">90 days</option>
            <option value="365">a year</option>
          </Select>
        </Field>
      </div>
      <Caption1 className={styles.note}>Retention deletes these when their period runs out, with a certificate. A legal hold placed before then keeps them.</Caption1>
      {problem && (
        <MessageBar intent="error" layout="multiline">
          <MessageBarBody>Could not read what is due: {problem}</MessageBarBody>
        </MessageBar>
      )}
      {!items && !problem && <Spinner label="Loading" />}
      {items && items.length === 0 && <Caption1 className={styles.note}>Nothing is due for deletion in that time.</Caption1>}
      {items && items.length > 0 && (
        // The list scrolls: it takes the focus itself, so the keyboard can scroll it.
        <ul className={list.list} aria-label="Conversations due for deletion" tabIndex={0}>
          {items.map((item) => {
            const who = [item.conversation.client.name, item.conversation.client.number].filter(Boolean).join(' ') || item.conversation.chatId;
            const dueNow = Date.parse(item.deleteFrom) <= now;
            return (
              <li key={item.conversation.id} className={`${styles.entry} due-conversation`} data-conversation={item.conversation.id}>
                <div className={styles.line}>
                  <Body1Strong dir="auto">{who}</Body1Strong>
                  <Badge appearance="tint" color={dueNow ? 'danger' : 'warning'}>
                    {dueNow ? 'due now' : `from ${day(item.deleteFrom)}`}
                  </Badge>
                </div>
                <Caption1>{item.rule}</Caption1>
                {item.matters.length > 0 && <Caption1 className={styles.quiet}>Matters: {item.matters.join(', ')}</Caption1>}
                <Caption1 className={styles.quiet}>Chat ID {item.conversation.chatId}</Caption1>
                <PlaceHoldButton scope={{ conversationId: item.conversation.id }} what={conversationName(item.conversation)} onPlaced={reload} />
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

function DeletionCertificates() {
  const styles = useStyles();
  const list = listStyles();
  const { api } = useSession();
  const { value: items, problem } = useLoaded(async () => (await api.deletionCertificates()).items.toReversed(), [api]);
  const [downloadProblem, setDownloadProblem] = useState<string | null>(null);

  const download = async (certificate: DeletionCertificate) => {
    setDownloadProblem(null);
    try {
      saveBlob(await api.deletionCertificate(certificate.id), `deletion-certificate-${certificate.id}.json`);
    } catch (error) {
      setDownloadProblem(error instanceof Error ? error.message : String(error));
    }
  };

  return (
    <div className={styles.root}>
      <Caption1 className={styles.note}>Each certificate names what was deleted by ids and hashes only, newest first. Its SHA-256 is over the file as downloaded.</Caption1>
      {problem && (
        <MessageBar intent="error" layout="multiline">
          <MessageBarBody>Could not read the certificates: {problem}</MessageBarBody>
        </MessageBar>
      )}
      {downloadProblem && (
        <MessageBar intent="error" layout="multiline" role="alert">
          <MessageBarBody>Could not download the certificate: {downloadProblem}</MessageBarBody>
        </MessageBar>
      )}
      {!items && !problem && <Spinner label="Loading" />}
      {items && items.length === 0 && <Caption1 className={styles.note}>Nothing has been deleted.</Caption1>}
      {items && items.length > 0 && (
        <ul className={list.list} aria-label="Deletion certificates" tabIndex={0}>
          {items.map((certificate) => (
            <li key={certificate.id} className={`${styles.entry} deletion-certificate`} data-certificate={certificate.id}>
              <Body1Strong>Conversation {certificate.chatId}</Body1Strong>
              <Caption1>
                {certificate.reason === 'erasure' ? 'Erased' : 'Deleted by retention'} {day(certificate.deletedAt)}
                {certificate.deletedBy ? ` by ${certificate.deletedBy}` : ''}; {certificate.events} event{certificate.events === 1 ? '' : 's'}
              </Caption1>
              {certificate.rule && <Caption1 className={styles.quiet}>{certificate.rule}</Caption1>}
              <Caption1 className={styles.hash}>SHA-256 {certificate.sha256}</Caption1>
              <Button size="small" className={styles.button} aria-label={`Download certificate ${certificate.id} (conversation ${certificate.chatId})`} onClick={() => void download(certificate)}>
                Download certificate
              </Button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * A subject access request (UK GDPR art. 15): every conversation with one person, across all
 * matters, as one evidence bundle, saved as a download with its SHA-256 shown for the file. The
 * person is found by their WhatsApp number, or by the user id the Cloud API gives for someone whose
 * number the firm never saw (their mails name it in X-WhatsApp-From). The audit trail records it
 * as a subject access, with the number or id.
 */
function SubjectAccess() {
  const styles = useStyles();
  const { api } = useSession();
  const [by, setBy] = useState<'phone' | 'user'>('phone');
  const [phone, setPhone] = useState('');
  const [user, setUser] = useState('');
  const zone = useZonePicker();
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<FormProblem | null>(null);
  const [saved, setSaved] = useState<{ fileName: string; sha256: string } | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const given = (by === 'phone' ? phone : user).trim();
    if (!given) return setProblem({ fields: by === 'phone' ? { phone: 'Enter the person’s WhatsApp number.' } : { user: 'Enter the person’s WhatsApp user id.' }, general: null, forbidden: false });
    if (!zone.valid) return;
    setBusy(true);
    setProblem(null);
    setSaved(null);
    try {
      const result = await api.exportEvidence({ subject: by === 'phone' ? { phone: given } : { user: given }, timeZone: zone.timeZone });
      const fileName = result.fileName ?? `subject-access-${new Date().toISOString().slice(0, 10)}.zip`;
      saveBlob(result.zip, fileName);
      setSaved({ fileName, sha256: result.sha256 });
    } catch (error) {
      setProblem(toFormProblem(error, (pathOrCode) => (pathOrCode === 'subject.phone' || pathOrCode === 'subject.user' || pathOrCode === 'not_found' ? by : pathOrCode === 'timeZone' ? 'timeZone' : null)));
    } finally {
      setBusy(false);
    }
  };

  const fieldError = (message: string | undefined) => (message ? { validationState: 'error' as const, validationMessage: message } : {});
  return (
    <form className={styles.form} onSubmit={(event) => void submit(event)} aria-label="Subject access export" noValidate>
      <Caption1>Everything held about one person: every conversation with them, across all matters, as a signed evidence bundle (zip).</Caption1>
      <Field label="Find the person by">
        <RadioGroup value={by} onChange={(_event, data) => (setBy(data.value === 'user' ? 'user' : 'phone'), setProblem(null))}>
          <Radio value="phone" label="WhatsApp number" />
          <Radio value="user" label="WhatsApp user id" />
        </RadioGroup>
      </Field>
      {by === 'phone' ? (
        <Field label="WhatsApp number" hint="International form, such as +44 7700 900123" required {...fieldError(problem?.fields.phone)}>
          <Input value={phone} type="tel" autoComplete="off" onChange={(_event, data) => (setPhone(data.value), setProblem(null))} />
        </Field>
      ) : (
        <Field label="WhatsApp user id" hint="As WhatsApp gives it for someone whose number the firm does not see; their mails show it in X-WhatsApp-From." required {...fieldError(problem?.fields.user)}>
          <Input value={user} autoComplete="off" spellCheck={false} onChange={(_event, data) => (setUser(data.value), setProblem(null))} />
        </Field>
      )}
      <Field label="Time zone" hint="The transcript shows times in it." {...fieldError(problem?.fields.timeZone ?? (zone.valid ? undefined : zonePickerError))}>
        <ZonePicker picker={zone} />
      </Field>
      <Button className={styles.button} appearance="primary" type="submit" disabled={busy || !zone.valid}>
        Build and save bundle
      </Button>
      {busy && <Spinner size="tiny" labelPosition="after" label="Building the bundle…" />}
      <BundleOutcome problem={problem} saved={saved} />
    </form>
  );
}
