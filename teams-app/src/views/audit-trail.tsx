import { Body1, makeStyles, MessageBar, MessageBarBody, MessageBarTitle, tokens } from '@fluentui/react-components';

const useStyles = makeStyles({ box: { padding: tokens.spacingHorizontalM, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS } });

/**
 * Placeholder for compliance officers: the API has no audit-trail route yet (it comes with the
 * compliance archive), so this says so plainly instead of showing an empty table.
 */
export function AuditTrailView() {
  const styles = useStyles();
  return (
    <div className={styles.box}>
      <MessageBar layout="multiline" intent="info" className="audit-placeholder">
        <MessageBarBody>
          <MessageBarTitle>Audit trail: not available yet</MessageBarTitle>
          The bridge does not serve its audit trail over the API yet. Until it does, use the command line (`wa-bridge verify`) to check the archive.
        </MessageBarBody>
      </MessageBar>
      <Body1>Every read, reply, link, export and sign-in will be listed here, with who did it and when.</Body1>
    </div>
  );
}
