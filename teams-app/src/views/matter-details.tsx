import {
  Badge,
  Button,
  Caption1,
  Caption1Strong,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  DialogTrigger,
  Field,
  Input,
  makeStyles,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  tokens,
} from '@fluentui/react-components';
import type { Matter } from '@wa-bridge/shared/api/matters';
import { useSession } from '@wa-bridge/shared/ui/api-context';
import { toFormProblem, type FormProblem } from '@wa-bridge/shared/ui/field-errors';
import { useState, type FormEvent } from 'react';
import { ExportEvidence, mayExportEvidence } from './export-evidence.js';
import { MatterRetentionSection } from './legal-holds.js';

const useStyles = makeStyles({
  box: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS, padding: `0 ${tokens.spacingHorizontalM} ${tokens.spacingVerticalS}`, borderBottom: `1px solid ${tokens.colorNeutralStroke2}` },
  line: { display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'center', flexWrap: 'wrap' },
  members: { display: 'flex', flexDirection: 'column', margin: 0, padding: 0, listStyle: 'none' },
  member: { overflowWrap: 'anywhere' },
  upn: { color: tokens.colorNeutralForeground3 },
  add: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
});

/**
 * A matter's state and members, and what the user may do with it: add a colleague and close it
 * (an admin, or a solicitor or case handler on the matter), and export its evidence bundle
 * (compliance officers, admins and case handlers); how long its records are kept, and its legal
 * holds, which compliance officers place and release. The buttons follow the server's rules; the
 * server checks again, and a refusal is shown as such. `changes` counts what the live stream said
 * changed in the matter, which its retention is read again for.
 */
export function MatterDetails({ matter, onChanged, changes }: { matter: Matter; onChanged(matter: Matter): void; changes: number }) {
  const styles = useStyles();
  const { api, me } = useSession();
  const [adding, setAdding] = useState(false);
  const [email, setEmail] = useState('');
  const [addProblem, setAddProblem] = useState<FormProblem | null>(null);
  const [closeProblem, setCloseProblem] = useState<FormProblem | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const isMember = matter.members.some((member) => member.upn.toLowerCase() === me.user.upn.toLowerCase());
  const mayManage = me.can.admin || (me.can.manageMatters && isMember);

  const addMember = async (event: FormEvent) => {
    event.preventDefault();
    if (!email.trim()) return setAddProblem({ fields: { email: 'Enter a sign-in name or email address.' }, general: null, forbidden: false });
    setBusy(true);
    setAddProblem(null);
    try {
      onChanged(await api.addMember(matter.id, email.trim()));
      setEmail('');
      setAdding(false);
    } catch (error) {
      setAddProblem(toFormProblem(error, (pathOrCode) => (pathOrCode === 'email' || pathOrCode === 'unknown_user' ? 'email' : null)));
    } finally {
      setBusy(false);
    }
  };

  const close = async () => {
    setBusy(true);
    setCloseProblem(null);
    try {
      onChanged(await api.closeMatter(matter.id));
    } catch (error) {
      setCloseProblem(toFormProblem(error, () => null));
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };

  const refusal = [addProblem, closeProblem].find((problem) => problem?.forbidden);
  return (
    <section className={styles.box} aria-label={`Matter ${matter.reference}`}>
      <div className={styles.line}>
        <Badge className="matter-state" appearance={matter.state === 'open' ? 'tint' : 'outline'} color={matter.state === 'open' ? 'success' : 'informative'}>
          {matter.state}
        </Badge>
        <Caption1>{[matter.matterType, matter.closedAt ? `closed ${new Date(matter.closedAt).toLocaleDateString()}` : `opened ${new Date(matter.createdAt).toLocaleDateString()}`].filter(Boolean).join(' · ')}</Caption1>
      </div>
      <Caption1Strong id={`members-${matter.id}`}>Members ({matter.members.length})</Caption1Strong>
      <ul className={styles.members} aria-labelledby={`members-${matter.id}`}>
        {matter.members.map((member) => (
          <li key={member.upn} className={`${styles.member} matter-member`} data-upn={member.upn}>
            <Caption1>
              {member.name && member.name !== member.upn ? (
                <>
                  <span dir="auto" className="member-name">
                    {member.name}
                  </span>{' '}
                  <span className={styles.upn}>{member.upn}</span>
                </>
              ) : (
                member.upn
              )}
              {member.upn === me.user.upn.toLowerCase() ? ' (you)' : ''}
            </Caption1>
          </li>
        ))}
      </ul>
      <MatterRetentionSection matter={matter} changes={changes} />
      {refusal && (
        <MessageBar layout="multiline" intent="error" role="alert">
          <MessageBarBody>
            <MessageBarTitle>Not allowed</MessageBarTitle>
            {refusal.general}
          </MessageBarBody>
        </MessageBar>
      )}
      {mayManage && !adding && (
        <div className={styles.line}>
          <Button size="small" onClick={() => setAdding(true)}>
            Add member
          </Button>
          {matter.state === 'open' && (
            <Dialog open={confirming} onOpenChange={(_event, data) => setConfirming(data.open)}>
              <DialogTrigger disableButtonEnhancement>
                <Button size="small">Close matter</Button>
              </DialogTrigger>
              <DialogSurface>
                <DialogBody>
                  <DialogTitle>Close {matter.reference}?</DialogTitle>
                  <DialogContent>
                    The retention period for this matter’s WhatsApp records starts counting from today, the day it closes; when it runs out, they are deleted unless a legal hold
                    applies. A closed matter takes no new conversations and cannot be reopened from here.
                  </DialogContent>
                  <DialogActions>
                    <Button appearance="primary" disabled={busy} onClick={() => void close()}>
                      Close matter
                    </Button>
                    <DialogTrigger disableButtonEnhancement>
                      <Button disabled={busy}>Keep it open</Button>
                    </DialogTrigger>
                  </DialogActions>
                </DialogBody>
              </DialogSurface>
            </Dialog>
          )}
        </div>
      )}
      {mayManage && adding && (
        <form className={styles.add} onSubmit={(event) => void addMember(event)} noValidate>
          <Field label="New member" hint="Sign-in name or email address" {...(addProblem?.fields.email ? { validationState: 'error' as const, validationMessage: addProblem.fields.email } : {})}>
            <Input
              value={email}
              onChange={(_event, data) => {
                setEmail(data.value);
                setAddProblem(null);
              }}
              autoComplete="off"
            />
          </Field>
          <div className={styles.line}>
            <Button size="small" appearance="primary" type="submit" disabled={busy}>
              Add
            </Button>
            <Button size="small" disabled={busy} onClick={() => (setAdding(false), setAddProblem(null))}>
              Cancel
            </Button>
          </div>
        </form>
      )}
      {mayExportEvidence(me.roles) && <ExportEvidence scope={{ matter: matter.reference }} />}
      {[addProblem, closeProblem].map((problem, index) =>
        problem?.general && !problem.forbidden ? (
          <MessageBar key={index} layout="multiline" intent="error" role="alert">
            <MessageBarBody>{problem.general}</MessageBarBody>
          </MessageBar>
        ) : null,
      )}
    </section>
  );
}
