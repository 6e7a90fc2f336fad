import { Badge, Body1Strong, Button, Caption1, makeStyles, mergeClasses, MessageBar, MessageBarBody, Spinner, Subtitle2, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, tokens } from '@fluentui/react-components';
import type { AdminStatus, ArchiveTaskStatus, ChannelStatus, JobItem, UnreadDocument } from '@wa-bridge/shared/api/account';
import { useSession } from '@wa-bridge/shared/ui/api-context';
import { ConversationView } from '@wa-bridge/shared/ui/conversation-view';
import QRCode from 'qrcode';
import { useCallback, useEffect, useState } from 'react';
import { UnlinkedConversations } from './unlinked.js';
import { useLevelChange } from './use-level-change.js';

const useStyles = makeStyles({
  box: { padding: tokens.spacingHorizontalM, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalL, overflowY: 'auto' },
  section: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  channel: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS, padding: tokens.spacingHorizontalS, border: `1px solid ${tokens.colorNeutralStroke2}`, borderRadius: tokens.borderRadiusMedium },
  line: { display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'center', flexWrap: 'wrap' },
  qr: { width: '220px', height: '220px', backgroundColor: '#ffffff', padding: '8px' },
  code: { fontFamily: tokens.fontFamilyMonospace, fontSize: tokens.fontSizeBase500, letterSpacing: '0.2em' },
  error: { overflowWrap: 'anywhere' },
  pane: { display: 'flex', flexDirection: 'column', flexGrow: 1, minHeight: 0 },
  bar: { display: 'flex', padding: tokens.spacingHorizontalS },
  senders: { margin: 0, paddingLeft: tokens.spacingHorizontalL },
});

const refreshMs = 10_000;

/**
 * Admin role: conversations to triage (on no matter, assigned to nobody), channel health and
 * pairing, relay lag, the archive's scheduled tasks, documents waiting to be read for search and
 * those search cannot look inside, jobs needing attention, reply senders. A conversation to triage
 * (or one holding an unreadable document) opens here, with the shared view's controls to assign
 * it and to link it to a matter.
 */
export function AdminView() {
  const styles = useStyles();
  const [triaging, setTriaging] = useState<number | null>(null);
  const { container, announcement } = useLevelChange(triaging);
  return (
    <div ref={container} style={{ display: 'contents' }}>
      {announcement}
      {triaging !== null ? (
        <div className={styles.pane}>
          <div className={styles.bar}>
            <Button appearance="subtle" onClick={() => setTriaging(null)}>
              ← Back to admin
            </Button>
          </div>
          <ConversationView conversationId={triaging} />
        </div>
      ) : (
        <AdminOverview onTriage={setTriaging} />
      )}
    </div>
  );
}

function AdminOverview({ onTriage }: { onTriage(conversationId: number): void }) {
  const styles = useStyles();
  const { api } = useSession();
  const [status, setStatus] = useState<AdminStatus | null>(null);
  const [jobs, setJobs] = useState<JobItem[]>([]);
  const [unread, setUnread] = useState<UnreadDocument[]>([]);
  const [problem, setProblem] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const [current, list, documents] = await Promise.all([api.adminStatus(), api.listJobs(), api.listUnreadDocuments()]);
      setStatus(current);
      setJobs(list.items);
      setUnread(documents.items);
      setProblem(null);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    }
  }, [api]);

  useEffect(() => {
    void load();
    // A QR code expires within a minute or so, and the relay lag moves: refresh while open.
    const timer = setInterval(() => void load(), refreshMs);
    return () => clearInterval(timer);
  }, [load]);

  const retry = async (job: JobItem) => {
    try {
      await api.retryJob(job.id);
      await load();
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    }
  };

  if (!status) return problem ? <Problem text={problem} /> : <Spinner label="Loading the bridge's status" />;
  return (
    <div className={styles.box}>
      {problem && <Problem text={problem} />}
      <section className={styles.section} aria-labelledby="admin-triage">
        <Subtitle2 id="admin-triage">Conversations to triage</Subtitle2>
        <Caption1>On no matter and assigned to nobody: only admins see them until you assign or link them.</Caption1>
        <UnlinkedConversations only="unassigned" onOpen={onTriage} />
      </section>
      <section className={styles.section} aria-labelledby="admin-channels">
        <Subtitle2 id="admin-channels">WhatsApp channels</Subtitle2>
        {status.channels.length === 0 && <Caption1>No channel is configured.</Caption1>}
        {status.channels.map((channel) => (
          <ChannelCard key={channel.kind} channel={channel} />
        ))}
      </section>
      <section className={styles.section} aria-labelledby="admin-relay">
        <Subtitle2 id="admin-relay">Relay</Subtitle2>
        <Caption1 className="relay-lag">
          Oldest waiting job: {status.relayLagSeconds.toFixed(0)} s · pending {status.jobs.pending} · running {status.jobs.running} · needing attention {status.jobs.needsAttention}
        </Caption1>
      </section>
      <section className={styles.section} aria-labelledby="admin-archive">
        <Subtitle2 id="admin-archive">Archive</Subtitle2>
        <ul className={styles.senders} aria-labelledby="admin-archive">
          {status.archive.map((task) => (
            <li key={task.task} className="archive-task" data-task={task.task} data-overdue={task.overdue} data-running={task.runningSince !== null}>
              <span className={styles.line}>
                <Caption1>{archiveTaskText(task)}</Caption1>
                {task.runningSince !== null && (
                  <Badge appearance="tint" color="informative">
                    Running
                  </Badge>
                )}
                {task.overdue && (
                  <Badge appearance="tint" color="danger">
                    Overdue
                  </Badge>
                )}
              </span>
            </li>
          ))}
        </ul>
        {status.archive.some((task) => task.overdue) && <Caption1>An overdue task has failed or not run: the bridge's log says why, and the next interval tries again.</Caption1>}
        {!status.archive.some((task) => task.task === 'backup') && <Caption1>No scheduled backups: set WA_BRIDGE_BACKUP_DIR, or run wa-bridge backup from elsewhere.</Caption1>}
        <Caption1 className="documents-waiting">
          {status.documentsWaiting === null
            ? 'Documents are not read for search (WA_BRIDGE_SEARCH_DOCUMENTS=off): only their names and captions are searched.'
            : `Documents waiting to be read for search: ${status.documentsWaiting}`}
        </Caption1>
      </section>
      <section className={styles.section} aria-labelledby="admin-jobs">
        <Subtitle2 id="admin-jobs">Jobs needing attention</Subtitle2>
        {jobs.length === 0 ? (
          <Caption1>None.</Caption1>
        ) : (
          <Table size="small" aria-labelledby="admin-jobs">
            <TableHeader>
              <TableRow>
                <TableHeaderCell>Job</TableHeaderCell>
                <TableHeaderCell>Last error</TableHeaderCell>
                <TableHeaderCell>Action</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {jobs.map((job) => (
                <TableRow key={job.id}>
                  <TableCell>
                    {job.kind} #{job.id} ({job.attempts} attempts)
                  </TableCell>
                  <TableCell className={styles.error}>{job.lastError ?? '—'}</TableCell>
                  <TableCell>
                    <Button size="small" onClick={() => void retry(job)} aria-label={`Retry job ${job.id}`}>
                      Retry
                    </Button>
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        )}
      </section>
      <section className={styles.section} aria-labelledby="admin-unread-documents">
        <Subtitle2 id="admin-unread-documents">Documents search cannot look inside</Subtitle2>
        {unread.length === 0 ? (
          <Caption1>None: the text of every document read so far is searchable.</Caption1>
        ) : (
          <>
            <Caption1>Found by their names and captions alone; their text could not be read.</Caption1>
            <Table size="small" aria-labelledby="admin-unread-documents">
              <TableHeader>
                <TableRow>
                  <TableHeaderCell>Document</TableHeaderCell>
                  <TableHeaderCell>Why</TableHeaderCell>
                </TableRow>
              </TableHeader>
              <TableBody>
                {unread.map((document) => (
                  <TableRow key={document.attachmentId} className="unread-document">
                    <TableCell>
                      <Button appearance="transparent" size="small" onClick={() => onTriage(document.conversationId)}>
                        <span dir="auto">{document.fileName ?? 'A document'}</span>
                      </Button>
                      <Caption1 className={styles.error}>
                        {' '}
                        from <span dir="auto">{document.clientName ?? 'a client'}</span>, {new Date(document.sentAt).toLocaleString(undefined, { day: 'numeric', month: 'short', year: 'numeric' })}
                      </Caption1>
                    </TableCell>
                    <TableCell className={mergeClasses(styles.error, 'unread-reason')}>{document.reason}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </>
        )}
      </section>
      <section className={styles.section} aria-labelledby="admin-senders">
        <Subtitle2 id="admin-senders">Who may reply by email</Subtitle2>
        {status.allowedSenders.length === 0 ? (
          <Caption1>Nobody: email replies are off.</Caption1>
        ) : (
          <ul className={styles.senders} aria-labelledby="admin-senders">
            {status.allowedSenders.map((sender) => (
              <li key={sender} className="allowed-sender">
                <Caption1>{sender.startsWith('@') ? `anyone at ${sender.slice(1)}` : sender}</Caption1>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

const archiveTaskNames: Record<ArchiveTaskStatus['task'], string> = {
  checkpoint: 'Signed checkpoint of every conversation chain',
  backup: 'Encrypted backup',
  retention: 'Retention run',
};

const shownTime = (iso: string): string => new Date(iso).toLocaleString(undefined, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });

/** "Encrypted backup: last 29 Nov 2026, 03:12 (every 24 hours); one running since 30 Nov 2026, 03:00". */
function archiveTaskText(task: ArchiveTaskStatus): string {
  const when = task.lastRunAt === null ? 'not yet' : `last ${shownTime(task.lastRunAt)}`;
  const going = task.runningSince === null ? '' : `; one running since ${shownTime(task.runningSince)}`;
  return `${archiveTaskNames[task.task]}: ${when} (every ${task.everyHours} hours)${going}`;
}

function ChannelCard({ channel }: { channel: ChannelStatus }) {
  const styles = useStyles();
  const [qrSvg, setQrSvg] = useState<string | null>(null);
  useEffect(() => {
    if (!channel.qr) return setQrSvg(null);
    QRCode.toString(channel.qr, { type: 'svg', margin: 1 }).then(setQrSvg, () => setQrSvg(null));
  }, [channel.qr]);
  const colour = channel.state === 'connected' ? 'success' : channel.state === 'disconnected' ? 'danger' : channel.state === 'pairing' ? 'warning' : 'informative';
  return (
    <div className={mergeClasses(styles.channel, 'channel')} data-kind={channel.kind}>
      <div className={styles.line}>
        <Body1Strong>{channel.kind === 'cloud-api' ? 'WhatsApp Business Cloud API' : channel.kind === 'whatsapp-web' ? 'WhatsApp Web (linked phone)' : channel.kind}</Body1Strong>
        <Badge color={colour}>{channel.state}</Badge>
      </div>
      {channel.detail && <Caption1>{channel.detail}</Caption1>}
      {channel.webhooks && <Caption1 className="webhook-health">Webhooks since start: {Object.entries(channel.webhooks).map(([outcome, count]) => `${outcome} ${count}`).join(', ') || 'none'}</Caption1>}
      {qrSvg && (
        <>
          <Caption1>Scan in WhatsApp on the firm's phone: Settings › Linked devices › Link a device.</Caption1>
          <div className={styles.qr} role="img" aria-label="QR code to link the firm's phone" dangerouslySetInnerHTML={{ __html: qrSvg }} />
        </>
      )}
      {channel.pairingCode && (
        <Caption1>
          Or link with phone number, code: <span className={mergeClasses(styles.code, 'pairing-code')}>{channel.pairingCode}</span>
        </Caption1>
      )}
    </div>
  );
}

function Problem({ text }: { text: string }) {
  return (
    <MessageBar layout="multiline" intent="error" role="alert">
      <MessageBarBody>{text}</MessageBarBody>
    </MessageBar>
  );
}
