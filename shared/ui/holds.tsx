import { Button, Caption1, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, DialogTrigger, Field, makeStyles, mergeClasses, MessageBar, MessageBarBody, Textarea, tokens } from '@fluentui/react-components';
import type { Client } from '@wa-bridge/shared/api/common';
import type { LegalHold } from '@wa-bridge/shared/api/holds';
import { useState, type FormEvent } from 'react';
import { useSession } from './api-context.js';
import { toFormProblem, type FormProblem } from './field-errors.js';
import { isolate } from './format.js';

/**
 * Legal holds as every view names them, and the dialogs compliance officers place and release
 * them with: each asks why, and the hold and the audit trail keep the answer.
 */

const useStyles = makeStyles({
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  // In a column the button would stretch to the column's width; it keeps its own.
  trigger: { alignSelf: 'flex-start' },
  holds: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS, margin: 0, padding: 0, listStyle: 'none' },
  hold: { display: 'flex', flexDirection: 'column', gap: '2px', borderLeft: `3px solid ${tokens.colorPaletteMarigoldBorderActive}`, paddingLeft: tokens.spacingHorizontalS },
  reason: { overflowWrap: 'anywhere', whiteSpace: 'pre-wrap' },
  quiet: { color: tokens.colorNeutralForeground3, overflowWrap: 'anywhere' },
});

/** A day as the retention views show it ("29 Nov 2026" in the user's language). */
export const day = (iso: string) => new Date(iso).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });

/** What a hold is on, as a person reads it. */
export const holdTarget = (hold: LegalHold): string => (hold.matter ? `matter ${hold.matter.reference}` : hold.conversation ? conversationName(hold.conversation) : 'a deleted conversation');

/** A conversation in a sentence, by its client's name and number, else by its chat id. */
export function conversationName(conversation: { chatId: string; client: Client }): string {
  const { name, number } = conversation.client;
  // A name in Arabic or Hebrew keeps its own direction inside the sentence.
  const who = [name === null ? null : isolate(name), number].filter(Boolean).join(' ');
  return who ? `the conversation with ${who}` : `conversation ${conversation.chatId}`;
}

/**
 * The legal holds in force on what a view shows, alike in a matter's view and a conversation's:
 * each with its reason, where it is when `where` says (a conversation's holds may be on one of its
 * matters), who placed it and when, and for compliance officers a button to release it.
 */
export function HoldsInForce({ holds, where, onReleased }: { holds: LegalHold[]; where?: (hold: LegalHold) => string; onReleased(): void }) {
  const styles = useStyles();
  const { me } = useSession();
  return (
    <ul className={styles.holds} aria-label="Legal holds in force">
      {holds.map((hold) => (
        <li key={hold.id} className={mergeClasses(styles.hold, 'legal-hold')} data-hold={hold.id}>
          <Caption1 className={styles.reason} dir="auto">
            {hold.reason}
          </Caption1>
          <Caption1 className={styles.quiet}>
            {where ? `On ${where(hold)}, placed` : 'Placed'} {day(hold.placedAt)} by {hold.placedBy}
          </Caption1>
          {me.can.holds && <ReleaseHoldButton hold={hold} onReleased={onReleased} />}
        </li>
      ))}
    </ul>
  );
}

/** A button that opens a dialog asking why, then places a legal hold on a matter or a conversation. */
export function PlaceHoldButton({ scope, what, onPlaced }: { scope: { matterId: number } | { conversationId: number }; what: string; onPlaced(hold: LegalHold): void }) {
  const { api } = useSession();
  return (
    <ReasonDialog
      trigger="Place legal hold"
      triggerName={`Place legal hold on ${what}`}
      title={`Place a legal hold on ${what}?`}
      explanation="While the hold is in force nothing it covers is deleted, whatever the retention period says. Say what it is for: the hold and the audit trail keep it."
      hint="For example the claim, the proceedings or the regulator's request"
      confirm="Place hold"
      act={async (reason) => onPlaced(await api.placeHold({ ...scope, reason }))}
    />
  );
}

/** A button that opens a dialog asking why, then releases the hold (it stays on record as released). */
export function ReleaseHoldButton({ hold, onReleased }: { hold: LegalHold; onReleased(hold: LegalHold): void }) {
  const { api } = useSession();
  return (
    <ReasonDialog
      trigger="Release hold"
      triggerName={`Release hold ${hold.id} on ${holdTarget(hold)}`}
      title={`Release the legal hold on ${holdTarget(hold)}?`}
      explanation="Once released, its records are deleted when their retention period runs out, unless another hold covers them. The hold stays on record as released."
      hint="For example, the proceedings ended"
      confirm="Release hold"
      act={async (reason) => onReleased(await api.releaseHold(hold.id, { reason }))}
    />
  );
}

function ReasonDialog(props: { trigger: string; triggerName?: string; title: string; explanation: string; hint: string; confirm: string; act(reason: string): Promise<void> }) {
  const styles = useStyles();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<FormProblem | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!reason.trim()) return setProblem({ fields: { reason: 'Say why.' }, general: null, forbidden: false });
    setBusy(true);
    setProblem(null);
    try {
      await props.act(reason.trim());
      setOpen(false);
      setReason('');
    } catch (error) {
      setProblem(toFormProblem(error, (pathOrCode) => (pathOrCode === 'reason' ? 'reason' : null)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open={open} onOpenChange={(_event, data) => (setOpen(data.open), setProblem(null))}>
      <DialogTrigger disableButtonEnhancement>
        <Button size="small" className={styles.trigger} {...(props.triggerName ? { 'aria-label': props.triggerName } : {})}>
          {props.trigger}
        </Button>
      </DialogTrigger>
      <DialogSurface>
        <form onSubmit={(event) => void submit(event)} noValidate>
          <DialogBody>
            <DialogTitle>{props.title}</DialogTitle>
            <DialogContent className={styles.form}>
              {props.explanation}
              <Field label="Reason" hint={props.hint} required {...(problem?.fields.reason ? { validationState: 'error' as const, validationMessage: problem.fields.reason } : {})}>
                <Textarea value={reason} onChange={(_event, data) => (setReason(data.value), setProblem(null))} resize="vertical" />
              </Field>
              {problem?.general && (
                <MessageBar intent="error" layout="multiline" role="alert">
                  <MessageBarBody>{problem.general}</MessageBarBody>
                </MessageBar>
              )}
            </DialogContent>
            <DialogActions>
              <Button appearance="primary" type="submit" disabled={busy}>
                {props.confirm}
              </Button>
              <Button disabled={busy} onClick={() => setOpen(false)}>
                Cancel
              </Button>
            </DialogActions>
          </DialogBody>
        </form>
      </DialogSurface>
    </Dialog>
  );
}
