import { Badge, Caption1, makeStyles, mergeClasses, tokens } from '@fluentui/react-components';
import type { ConversationDetail } from '@wa-bridge/shared/api/conversations';
import type { ConversationRetention } from '@wa-bridge/shared/api/holds';
import { useSession } from '../api-context.js';
import { day, HoldsInForce, PlaceHoldButton } from '../holds.js';

const useStyles = makeStyles({
  box: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS, padding: `${tokens.spacingVerticalXS} ${tokens.spacingHorizontalS} 0` },
  line: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalXS, alignItems: 'center' },
  period: { color: tokens.colorNeutralForeground3, overflowWrap: 'anywhere' },
});

/**
 * How long the archive keeps this conversation, and the legal holds keeping it now, for everyone
 * who reads it: a solicitor sees that a client's chat is held before tidying anything away.
 * Compliance officers also place a hold on it, or release one, from here.
 */
export function ConversationRetentionStrip({ conversation, onChanged }: { conversation: ConversationDetail; onChanged(): void }) {
  const styles = useStyles();
  const { me } = useSession();
  const { retention } = conversation;
  return (
    <section className={mergeClasses(styles.box, 'conversation-retention')} aria-label="Retention" data-basis={retention.basis}>
      <div className={styles.line}>
        {retention.holds.length > 0 && (
          <Badge appearance="tint" color="warning">
            Legal hold
          </Badge>
        )}
        <Caption1 className={mergeClasses(styles.period, 'retention-period')}>{retentionText(retention)}</Caption1>
      </div>
      {retention.holds.length > 0 && <HoldsInForce holds={retention.holds} where={(hold) => (hold.matter ? `matter ${hold.matter.reference}` : 'this conversation')} onReleased={onChanged} />}
      {me.can.holds && <PlaceHoldButton scope={{ conversationId: conversation.id }} what="this conversation" onPlaced={onChanged} />}
    </section>
  );
}

/** The retention in a sentence, from what decides it. */
export function retentionText(retention: ConversationRetention): string {
  const { basis, keptUntil, matter, years, matterType } = retention;
  if (basis === 'hold') return 'Kept, whatever its age, while a legal hold is in force.';
  if (basis === 'matter_open') return `Kept while matter ${matter ?? ''} is open, then for that matter's retention period.`;
  const until = keptUntil === null ? null : day(keptUntil);
  const due = keptUntil !== null && Date.parse(keptUntil) <= Date.now();
  const period =
    basis === 'matter_closed'
      ? `${years ?? '?'} years after matter ${matter ?? ''} closed (${matterType ? `the period for ${matterType}` : "the firm's default period"})`
      : `${years ?? '?'} years after its last message (the firm's default period, as it is on no matter)`;
  return due ? `Due for deletion at the next retention run: ${period} ended on ${until}.` : `Kept until ${until}: ${period}.`;
}
