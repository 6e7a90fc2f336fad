import { Button, Combobox, Field, Input, makeStyles, MessageBar, MessageBarBody, Option, Subtitle2, tokens } from '@fluentui/react-components';
import type { CreateMatter, Matter } from '@wa-bridge/shared/api/matters';
import { useSession } from '@wa-bridge/shared/ui/api-context';
import { toFormProblem, type FormProblem } from '@wa-bridge/shared/ui/field-errors';
import { useState, type FormEvent } from 'react';

const useStyles = makeStyles({
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM, padding: tokens.spacingHorizontalM, overflowY: 'auto' },
  buttons: { display: 'flex', gap: tokens.spacingHorizontalS, flexWrap: 'wrap' },
});

/** The usual kinds of matter; retention rules are set per type, so a familiar spelling helps. */
const matterTypes = ['Conveyancing', 'Litigation', 'Family', 'Probate', 'Employment', 'Commercial'];

type FieldName = 'reference' | 'title' | 'matterType' | 'members';

/** Splits "a@firm.example, b@firm.example" into the addresses typed, blanks dropped. */
export const splitMembers = (text: string): string[] =>
  text
    .split(/[,;\n]/)
    .map((part) => part.trim())
    .filter(Boolean);

/**
 * A new matter: reference, title, type and the colleagues on it. The creator is always a member.
 * The server checks everything; its answer is shown beside the field it concerns.
 */
export function NewMatterForm({ onCreated, onCancel }: { onCreated(matter: Matter): void; onCancel(): void }) {
  const styles = useStyles();
  const { api, me } = useSession();
  const [reference, setReference] = useState('');
  const [title, setTitle] = useState('');
  const [matterType, setMatterType] = useState('');
  const [members, setMembers] = useState('');
  const [problem, setProblem] = useState<FormProblem | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const missing: Partial<Record<FieldName, string>> = {};
    if (!reference.trim()) missing.reference = 'Enter the firm’s reference for the matter.';
    if (!title.trim()) missing.title = 'Enter a title, such as the client and what the matter is about.';
    if (Object.keys(missing).length > 0) return setProblem({ fields: missing, general: null, forbidden: false });
    const entries = splitMembers(members);
    const body: CreateMatter = { reference: reference.trim(), title: title.trim(), members: entries, ...(matterType.trim() ? { matterType: matterType.trim() } : {}) };
    setBusy(true);
    setProblem(null);
    try {
      onCreated(await api.createMatter(body));
    } catch (error) {
      setProblem(
        toFormProblem(
          error,
          (pathOrCode) => {
            if (pathOrCode === 'reference_taken') return 'reference';
            // A directory lookup that finds nobody names the address as "email".
            if (pathOrCode === 'email' || pathOrCode === 'unknown_user' || pathOrCode.startsWith('members')) return 'members';
            const field = pathOrCode.split('.')[0];
            return field === 'reference' || field === 'title' || field === 'matterType' ? field : null;
          },
          (path) => (/^members\.\d+$/.test(path) ? `“${entries[Number(path.split('.')[1])] ?? ''}”` : null),
        ),
      );
    } finally {
      setBusy(false);
    }
  };

  // Typing in a field clears what was said about it: the message described the old value.
  const edited = (name: FieldName) => problem?.fields[name] && setProblem({ ...problem, fields: { ...problem.fields, [name]: '' } });
  const fieldProps = (name: FieldName) => (problem?.fields[name] ? { validationState: 'error' as const, validationMessage: problem.fields[name] } : {});

  return (
    <form className={styles.form} onSubmit={(event) => void submit(event)} aria-labelledby="new-matter-heading" noValidate>
      <Subtitle2 id="new-matter-heading" as="h2">
        New matter
      </Subtitle2>
      <Field label="Reference" required hint="The firm’s matter number, e.g. SMI-2026-0042" {...fieldProps('reference')}>
        <Input value={reference} onChange={(_event, data) => (setReference(data.value), edited('reference'))} autoComplete="off" />
      </Field>
      <Field label="Title" required hint="Client and subject, e.g. Smith: purchase of 4 Elm Road" {...fieldProps('title')}>
        <Input value={title} onChange={(_event, data) => (setTitle(data.value), edited('title'))} autoComplete="off" dir="auto" />
      </Field>
      <Field label="Matter type" hint="Pick one or type your own; it decides how long the records are kept" {...fieldProps('matterType')}>
        <Combobox
          freeform
          value={matterType}
          onChange={(event) => (setMatterType(event.target.value), edited('matterType'))}
          onOptionSelect={(_event, data) => (setMatterType(data.optionText ?? ''), edited('matterType'))}
        >
          {matterTypes
            .filter((type) => type.toLowerCase().includes(matterType.trim().toLowerCase()))
            .map((type) => (
              <Option key={type}>{type}</Option>
            ))}
        </Combobox>
      </Field>
      <Field label="Members" hint={`Sign-in names or email addresses, separated by commas. You (${me.user.upn}) are added anyway.`} {...fieldProps('members')}>
        <Input value={members} onChange={(_event, data) => (setMembers(data.value), edited('members'))} autoComplete="off" placeholder="tom@firm.example, anna@firm.example" />
      </Field>
      {problem?.general && (
        <MessageBar layout="multiline" intent="error" role="alert">
          <MessageBarBody>{problem.forbidden ? `Not allowed: ${problem.general}` : problem.general}</MessageBarBody>
        </MessageBar>
      )}
      <div className={styles.buttons}>
        <Button appearance="primary" type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create matter'}
        </Button>
        <Button onClick={onCancel} disabled={busy}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
