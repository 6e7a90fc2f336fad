import {
  Badge,
  Body1Strong,
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
  makeStyles,
  MessageBar,
  MessageBarBody,
  Spinner,
  Switch,
  Textarea,
  tokens,
} from '@fluentui/react-components';
import type { Client } from '@wa-bridge/shared/api/conversations';
import type { LegalHold, MatterRetention } from '@wa-bridge/shared/api/holds';
import type { Matter } from '@wa-bridge/shared/api/matters';
import { useSession } from '@wa-bridge/shared/ui/api-context';
import { toFormProblem, type FormProblem } from '@wa-bridge/shared/ui/field-errors';
import { isolate } from '@wa-bridge/shared/ui/format';
import { listStyles } from '@wa-bridge/shared/ui/list-styles';
import { useState, type FormEvent } from 'react';
import { useLoaded } from './use-loaded.js';

const useStyles = makeStyles({
  section: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS },
  line: { display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'center', flexWrap: 'wrap' },
  holds: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS, margin: 0, padding: 0, listStyle: 'none' },
  hold: { display: 'flex', flexDirection: 'column', gap: '2px', padding: tokens.spacingVerticalXS, borderLeft: `3px solid ${tokens.colorPaletteMarigoldBorderActive}`, paddingLeft: tokens.spacingHorizontalS },
  reason: { overflowWrap: 'anywhere', whiteSpace: 'pre-wrap' },
  quiet: { color: tokens.colorNeutralForeground3, overflowWrap: 'anywhere' },
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  // In a column the button would stretch to the column's width; it keeps its own.
  trigger: { alignSelf: 'flex-start' },
  pane: { display: 'flex', flexDirection: 'column', flexGrow: 1, minHeight: 0 },
  bar: { display: 'flex', gap: tokens.spacingHorizontalS, padding: tokens.spacingHorizontalS, alignItems: 'center', flexWrap: 'wrap' },
  entry: { display: 'flex', flexDirection: 'column', gap: '2px', padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalM}`, borderBottom: `1px solid ${tokens.colorNeutralStroke2}` },
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
 * How long a matter's WhatsApp records are kept and the legal holds on it, for everyone who sees
 * the matter; compliance officers also place and release holds here.
 */
export function MatterRetentionSection({ matter }: { matter: Matter }) {
  const styles = useStyles();
  const { api, me } = useSession();
  // The matter's closing date moves the kept-until date: loaded again when it changes.
  const { value: retention, problem, reload } = useLoaded(() => api.matterRetention(matter.id), [api, matter.id, matter.closedAt]);

  const headingId = `retention-${matter.id}`;
  return (
    <div className={styles.section} role="group" aria-labelledby={headingId}>
      <Caption1Strong id={headingId}>Retention</Caption1Strong>
      {problem && (
        <MessageBar intent="error" layout="multiline">
          <MessageBarBody>Could not read the retention: {problem}</MessageBarBody>
        </MessageBar>
      )}
      {retention && (
        <>
          <Caption1 className="retention-period">{periodText(retention)}</Caption1>
          {retention.holds.length > 0 && (
            <ul className={styles.holds} aria-label="Legal holds in force">
              {retention.holds.map((hold) => (
                <li key={hold.id} className={`${styles.hold} legal-hold`} data-hold={hold.id}>
                  <div className={styles.line}>
                    <Badge appearance="tint" color="warning">
                      Legal hold
                    </Badge>
                    <Caption1 className={styles.quiet}>
                      placed {day(hold.placedAt)} by {hold.placedBy}
                    </Caption1>
                  </div>
                  <Caption1 className={styles.reason} dir="auto">
                    {hold.reason}
                  </Caption1>
                  {me.can.holds && <ReleaseHoldButton hold={hold} onReleased={reload} />}
                </li>
              ))}
            </ul>
          )}
          {retention.holds.length > 0 && <Caption1>While a hold is in force, nothing of this matter is deleted, whatever its age.</Caption1>}
          {me.can.holds && <PlaceHoldButton scope={{ matterId: matter.id }} what={`matter ${matter.reference}`} onPlaced={reload} />}
        </>
      )}
    </div>
  );
}

function periodText(retention: MatterRetention): string {
  const why = retention.rule === 'default' ? "the firm's default period" : `the period for ${retention.rule}`;
  if (retention.keptUntil === null) return `Kept ${retention.years} years after the matter closes (${why}); the period starts when it is closed.`;
  return `Kept until ${day(retention.keptUntil)}: ${retention.years} years after closing (${why}), longer if one of its conversations belongs to another matter with a longer period.`;
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

/**
 * Compliance officers, above one conversation: the holds in force on it alone (a hold on one of
 * its matters shows on the matter) and a button to place one.
 */
export function ConversationHolds({ conversationId }: { conversationId: number }) {
  const styles = useStyles();
  const { api } = useSession();
  const { value: holds, problem, reload } = useLoaded(async () => (await api.listHolds()).items.filter((hold) => hold.conversation?.id === conversationId), [api, conversationId]);

  return (
    <>
      {holds?.map((hold) => (
        <Badge key={hold.id} className="legal-hold" data-hold={hold.id} appearance="tint" color="warning" title={hold.reason}>
          Legal hold {hold.id}
        </Badge>
      ))}
      <PlaceHoldButton scope={{ conversationId }} what="this conversation" onPlaced={reload} />
      {problem && <Caption1 className={styles.quiet}>Could not read its holds: {problem}</Caption1>}
    </>
  );
}

/**
 * Compliance officers: every legal hold in force (on matters and on single conversations), and
 * the released ones on request, with who placed and released each and why.
 */
export function LegalHoldsView() {
  const styles = useStyles();
  const list = listStyles();
  const { api } = useSession();
  const [all, setAll] = useState(false);
  const { value: holds, problem, reload } = useLoaded(async () => (await api.listHolds({ all: all ? 'true' : 'false' })).items, [api, all]);

  return (
    <div className={styles.pane}>
      <div className={styles.bar}>
        <Switch checked={all} onChange={(_event, data) => setAll(data.checked)} label="Show released holds" />
      </div>
      <Caption1 className={styles.entry}>Place a hold from a matter, or from one conversation when only that client is concerned.</Caption1>
      {problem && (
        <MessageBar intent="error" layout="multiline">
          <MessageBarBody>Could not list the holds: {problem}</MessageBarBody>
        </MessageBar>
      )}
      {!holds && !problem && <Spinner label="Loading holds" />}
      {holds && holds.length === 0 && <Caption1 className={styles.entry}>{all ? 'No legal hold has been placed.' : 'No legal hold is in force.'}</Caption1>}
      {holds && holds.length > 0 && (
        // The list scrolls: it takes the focus itself, so the keyboard can scroll it when no hold in it has a button.
        <ul className={list.list} aria-label={all ? 'Legal holds' : 'Legal holds in force'} tabIndex={0}>
          {holds.map((hold) => (
            <li key={hold.id} className={`${styles.entry} legal-hold`} data-hold={hold.id}>
              <div className={styles.line}>
                <Body1Strong>
                  Hold {hold.id} on {holdTarget(hold)}
                </Body1Strong>
                {hold.releasedAt === null ? (
                  <Badge appearance="tint" color="warning">
                    in force
                  </Badge>
                ) : (
                  <Badge appearance="outline">released</Badge>
                )}
              </div>
              <Caption1 className={styles.reason} dir="auto">
                {hold.reason}
              </Caption1>
              {hold.conversation && <Caption1 className={styles.quiet}>Chat ID (X-WhatsApp-Chat-Id) {hold.conversation.chatId}</Caption1>}
              <Caption1 className={styles.quiet}>
                Placed {day(hold.placedAt)} by {hold.placedBy}
                {hold.releasedAt !== null && `; released ${day(hold.releasedAt)} by ${hold.releasedBy ?? 'unknown'}${hold.releaseReason ? `: ${hold.releaseReason}` : ''}`}
              </Caption1>
              {hold.releasedAt === null && <ReleaseHoldButton hold={hold} onReleased={reload} />}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
