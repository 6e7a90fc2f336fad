import { Badge, Body1Strong, Caption1, Caption1Strong, makeStyles, MessageBar, MessageBarBody, Spinner, Switch, tokens } from '@fluentui/react-components';
import type { MatterRetention } from '@wa-bridge/shared/api/holds';
import type { Matter } from '@wa-bridge/shared/api/matters';
import { useSession } from '@wa-bridge/shared/ui/api-context';
import { day, holdTarget, HoldsInForce, PlaceHoldButton, ReleaseHoldButton } from '@wa-bridge/shared/ui/holds';
import { listStyles } from '@wa-bridge/shared/ui/list-styles';
import { useState } from 'react';
import { useHoldChanges } from './use-hold-changes.js';
import { useLoaded } from './use-loaded.js';

const useStyles = makeStyles({
  section: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS },
  line: { display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'center', flexWrap: 'wrap' },
  reason: { overflowWrap: 'anywhere', whiteSpace: 'pre-wrap' },
  quiet: { color: tokens.colorNeutralForeground3, overflowWrap: 'anywhere' },
  pane: { display: 'flex', flexDirection: 'column', flexGrow: 1, minHeight: 0 },
  bar: { display: 'flex', gap: tokens.spacingHorizontalS, padding: tokens.spacingHorizontalS, alignItems: 'center', flexWrap: 'wrap' },
  entry: { display: 'flex', flexDirection: 'column', gap: '2px', padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalM}`, borderBottom: `1px solid ${tokens.colorNeutralStroke2}` },
});

/**
 * How long a matter's WhatsApp records are kept and the legal holds on it, for everyone who sees
 * the matter, read again when the live stream says it changed (`changes`: a hold placed or
 * released, by anyone and by any road, or the matter closed); compliance officers also place and
 * release holds here.
 */
export function MatterRetentionSection({ matter, changes }: { matter: Matter; changes: number }) {
  const styles = useStyles();
  const { api, me } = useSession();
  // The matter's closing date moves the kept-until date: loaded again when it changes.
  const { value: retention, problem, reload } = useLoaded(() => api.matterRetention(matter.id), [api, matter.id, matter.closedAt, changes]);

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
          <div className={styles.line}>
            {retention.holds.length > 0 && (
              <Badge appearance="tint" color="warning">
                Legal hold
              </Badge>
            )}
            <Caption1 className="retention-period">{periodText(retention)}</Caption1>
          </div>
          {retention.holds.length > 0 && <HoldsInForce holds={retention.holds} onReleased={reload} />}
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

/**
 * Compliance officers: every legal hold in force (on matters and on single conversations), and
 * the released ones on request, with who placed and released each and why. It follows the live
 * stream, so a hold another officer places or releases shows without a reload.
 */
export function LegalHoldsView() {
  const styles = useStyles();
  const list = listStyles();
  const { api } = useSession();
  const [all, setAll] = useState(false);
  const { value: holds, problem, reload } = useLoaded(async () => (await api.listHolds({ all: all ? 'true' : 'false' })).items, [api, all]);
  useHoldChanges(reload);

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
