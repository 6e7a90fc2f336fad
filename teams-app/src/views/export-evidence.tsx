import { Button, Caption1, Field, Input, makeStyles, MessageBar, MessageBarBody, MessageBarTitle, Spinner, tokens } from '@fluentui/react-components';
import type { Role } from '@wa-bridge/shared/roles';
import { useSession } from '@wa-bridge/shared/ui/api-context';
import { toFormProblem, type FormProblem } from '@wa-bridge/shared/ui/field-errors';
import { startOfDayIn, useZonePicker, ZonePicker, zonePickerError } from '@wa-bridge/shared/ui/time-zones';
import { useState, type FormEvent } from 'react';

const useStyles = makeStyles({
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  dates: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS },
  date: { flexGrow: 1, minWidth: '9rem' },
  line: { display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'center', flexWrap: 'wrap' },
  hash: { display: 'block', fontFamily: tokens.fontFamilyMonospace, overflowWrap: 'anywhere', userSelect: 'all' },
});

/** The roles the bridge lets export (a case handler only what they can see, which the server checks). */
const exportRoles: readonly Role[] = ['ComplianceOfficer', 'Admin', 'CaseHandler'];

export function mayExportEvidence(roles: readonly string[]): boolean {
  return roles.some((role) => (exportRoles as readonly string[]).includes(role));
}

/** What an export covers: a matter, by its reference, or one conversation. */
export type ExportScope = { matter: string } | { conversationId: number };

/**
 * "Export evidence" for a matter (every conversation it ever had, the same zip `wa-bridge export
 * --matter` writes) or for one conversation (`--conversation`), optionally limited to a range of
 * days, as the bridge's evidence bundle. The zip is saved as a download and its SHA-256, as the
 * bridge computed it, is shown for the officer's notes; `wa-bridge verify-bundle` checks the file
 * later.
 */
export function ExportEvidence({ scope }: { scope: ExportScope }) {
  const styles = useStyles();
  const { api } = useSession();
  const [open, setOpen] = useState(false);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const zone = useZonePicker();
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<FormProblem | null>(null);
  const [saved, setSaved] = useState<{ fileName: string; sha256: string } | null>(null);
  const { valid: zoneValid, timeZone } = zone;
  const rangeWrong = from !== '' && to !== '' && to <= from;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!zoneValid || rangeWrong) return;
    setBusy(true);
    setProblem(null);
    setSaved(null);
    try {
      // The API names a conversation by its chat id (X-WhatsApp-Chat-Id), as the bundle does.
      const label = 'matter' in scope ? scope.matter : (await api.getConversation(scope.conversationId)).chatId;
      const result = await api.exportEvidence({
        ...('matter' in scope ? { matter: label } : { conversations: [label] }),
        ...(from ? { from: startOfDayIn(from, timeZone) } : {}),
        ...(to ? { to: startOfDayIn(to, timeZone) } : {}),
        timeZone,
      });
      const fileName = result.fileName ?? `evidence-${label.replace(/[^A-Za-z0-9._-]/g, '_')}-${new Date().toISOString().slice(0, 10)}.zip`;
      saveBlob(result.zip, fileName);
      setSaved({ fileName, sha256: result.sha256 });
    } catch (error) {
      setProblem(toFormProblem(error, (pathOrCode) => (pathOrCode === 'from' || pathOrCode === 'to' || pathOrCode === 'timeZone' ? pathOrCode : null)));
    } finally {
      setBusy(false);
    }
  };

  const fieldError = (name: string, local?: string) => {
    const message = local ?? problem?.fields[name];
    return message ? { validationState: 'error' as const, validationMessage: message } : {};
  };

  return (
    <>
      {!open && (
        <div className={styles.line}>
          <Button size="small" onClick={() => setOpen(true)}>
            Export evidence
          </Button>
        </div>
      )}
      {open && (
        <form className={styles.form} onSubmit={(event) => void submit(event)} aria-label={`Export evidence for ${'matter' in scope ? scope.matter : 'this conversation'}`} noValidate>
          <Caption1>
            {'matter' in scope ? 'Every conversation of this matter' : 'This conversation'}, as a signed evidence bundle (zip). Leave the dates empty for all of it.
          </Caption1>
          <div className={styles.dates}>
            <Field className={styles.date} label="From (included)" {...fieldError('from')}>
              <Input type="date" value={from} max={to || undefined} onChange={(_event, data) => (setFrom(data.value), setProblem(null))} />
            </Field>
            <Field className={styles.date} label="To (not included)" hint="The bundle stops at the start of this day." {...fieldError('to', rangeWrong ? 'Choose a day after the From day.' : undefined)}>
              <Input type="date" value={to} min={from || undefined} onChange={(_event, data) => (setTo(data.value), setProblem(null))} />
            </Field>
          </div>
          <Field
            label="Time zone"
            hint="Days start at midnight here; the transcript shows times in it."
            {...fieldError('timeZone', zoneValid ? undefined : zonePickerError)}
          >
            <ZonePicker picker={zone} />
          </Field>
          <div className={styles.line}>
            <Button size="small" appearance="primary" type="submit" disabled={busy || !zoneValid || rangeWrong}>
              Build and save bundle
            </Button>
            <Button size="small" disabled={busy} onClick={() => (setOpen(false), setProblem(null))}>
              Cancel
            </Button>
          </div>
          {busy && <Spinner size="tiny" labelPosition="after" label="Building the evidence bundle…" />}
        </form>
      )}
      <BundleOutcome problem={problem} saved={saved} />
    </>
  );
}

/** How a bundle export ended: why it failed, or the file saved and its SHA-256 to note down. */
export function BundleOutcome({ problem, saved }: { problem: FormProblem | null; saved: { fileName: string; sha256: string } | null }) {
  const styles = useStyles();
  return (
    <>
      {problem?.general && (
        <MessageBar layout="multiline" intent="error" role="alert" className="export-problem">
          <MessageBarBody>
            <MessageBarTitle>{problem.forbidden ? 'Not allowed' : 'Export failed'}</MessageBarTitle>
            {problem.general}
          </MessageBarBody>
        </MessageBar>
      )}
      {saved && (
        <MessageBar layout="multiline" intent="success" role="status" className="export-saved">
          <MessageBarBody>
            <MessageBarTitle>Saved {saved.fileName}</MessageBarTitle>
            SHA-256 (note it with the bundle): <span className={`${styles.hash} export-sha256`}>{saved.sha256}</span>
          </MessageBarBody>
        </MessageBar>
      )}
    </>
  );
}

/** Saves a blob as a download named `fileName`, as a link the user clicked would. */
export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
