import { Button, Caption1, Field, Input, makeStyles, mergeClasses, tokens } from '@fluentui/react-components';
import type { ConversationDetail } from '@wa-bridge/shared/api/conversations';
import { useState, type FormEvent } from 'react';
import { useSession } from '../api-context.js';
import { toFormProblem } from '../field-errors.js';

const useStyles = makeStyles({
  box: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS, padding: `${tokens.spacingVerticalXS} ${tokens.spacingHorizontalS} 0` },
  line: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalXS, alignItems: 'center' },
  who: { overflowWrap: 'anywhere' },
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  buttons: { display: 'flex', gap: tokens.spacingHorizontalS, flexWrap: 'wrap' },
});

/**
 * Who a conversation on no matter is assigned to, and (for those allowed) a way to hand it to a
 * solicitor by sign-in name: until it is linked to a matter, only the assignee and admins see it.
 * Hidden once the conversation is on a matter, where membership decides instead.
 */
export function Assignee({ conversation, onAssigned }: { conversation: ConversationDetail; onAssigned(detail: ConversationDetail): void }) {
  const styles = useStyles();
  const { api, me } = useSession();
  const [open, setOpen] = useState(false);
  const [upn, setUpn] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (conversation.matters.length > 0) return null;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const value = upn.trim();
    // Access is keyed by the exact sign-in name, so a bare name would hand it to nobody.
    if (!/^[^\s@]+@[^\s@]+$/.test(value)) return setProblem('Enter a sign-in name such as tom@firm.example.');
    setBusy(true);
    setProblem(null);
    try {
      onAssigned(await api.assign(conversation.id, { assignee: value }));
      setOpen(false);
      setUpn('');
    } catch (error) {
      const found = toFormProblem(error, (pathOrCode) => (pathOrCode === 'assignee' ? 'assignee' : null));
      setProblem(found.fields.assignee ?? (found.forbidden ? `Not allowed: ${found.general}` : found.general));
    } finally {
      setBusy(false);
    }
  };

  const assignee = conversation.assignee;
  return (
    <section className={styles.box} aria-label="Assignment">
      <div className={styles.line}>
        <Caption1>Assigned to:</Caption1>
        <Caption1 className={mergeClasses(styles.who, 'conversation-assignee')}>
          {assignee === null ? (
            'nobody yet'
          ) : assignee === me.user.upn.toLowerCase() ? (
            <>
              you (<bdi>{assignee}</bdi>)
            </>
          ) : (
            <bdi>{assignee}</bdi>
          )}
        </Caption1>
        {conversation.can.assign && !open && (
          <Button size="small" appearance="subtle" onClick={() => setOpen(true)}>
            {assignee === null ? 'Assign to a solicitor' : 'Reassign'}
          </Button>
        )}
      </div>
      {open && (
        <form className={styles.form} onSubmit={(event) => void submit(event)} noValidate>
          <Field label="Solicitor’s sign-in name" {...(problem ? { validationState: 'error' as const, validationMessage: problem } : {})}>
            <Input
              value={upn}
              onChange={(_event, data) => {
                setUpn(data.value);
                setProblem(null);
              }}
              autoComplete="off"
              placeholder="tom@firm.example"
            />
          </Field>
          <div className={styles.buttons}>
            <Button size="small" appearance="primary" type="submit" disabled={busy}>
              Assign
            </Button>
            <Button size="small" disabled={busy} onClick={() => (setOpen(false), setProblem(null))}>
              Cancel
            </Button>
          </div>
        </form>
      )}
    </section>
  );
}
