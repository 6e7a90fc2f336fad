import { Button, Caption1, makeStyles, tokens } from '@fluentui/react-components';
import type { Attachment } from '@wa-bridge/shared/api/conversations';
import { useEffect, useState } from 'react';
import { useSession } from '../api-context.js';
import { describeError, formatBytes } from '../format.js';

const useStyles = makeStyles({
  media: { display: 'block', maxWidth: '100%', maxHeight: '220px', borderRadius: tokens.borderRadiusMedium, marginBottom: tokens.spacingVerticalXS },
  file: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalS, flexWrap: 'wrap' },
  name: { overflowWrap: 'anywhere' },
});

/**
 * One attachment of a bubble. Files need the bearer token, so previews are fetched as blobs and
 * shown through object URLs (released when the bubble goes away); other files download on demand.
 */
export function AttachmentView({ attachment }: { attachment: Attachment }) {
  const styles = useStyles();
  const { api } = useSession();
  const [previewUrl, setPreviewUrl] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const previewable = ['image', 'sticker', 'video', 'audio'].includes(attachment.mediaType) && attachment.downloadUrl !== null;

  useEffect(() => {
    if (!previewable || !attachment.downloadUrl) return;
    let url: string | null = null;
    let cancelled = false;
    api.downloadAttachment(attachment.downloadUrl).then(
      (blob) => {
        if (cancelled) return;
        url = URL.createObjectURL(blob);
        setPreviewUrl(url);
      },
      (error: unknown) => !cancelled && setProblem(describeError(error)),
    );
    return () => {
      cancelled = true;
      if (url) URL.revokeObjectURL(url);
    };
  }, [api, attachment.downloadUrl, previewable]);

  const label = attachment.fileName ?? `${attachment.mediaType} (${attachment.mimeType})`;
  const download = async () => {
    if (!attachment.downloadUrl) return;
    try {
      const blob = await api.downloadAttachment(attachment.downloadUrl);
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = attachment.fileName ?? 'attachment';
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (error) {
      setProblem(describeError(error));
    }
  };

  return (
    <div>
      {previewUrl && (attachment.mediaType === 'image' || attachment.mediaType === 'sticker') && <img className={styles.media} src={previewUrl} alt={attachment.fileName ?? `${attachment.mediaType} from the chat`} />}
      {previewUrl && attachment.mediaType === 'video' && <video className={styles.media} src={previewUrl} controls aria-label={label} />}
      {previewUrl && attachment.mediaType === 'audio' && <audio src={previewUrl} controls aria-label={label} />}
      <div className={styles.file}>
        <Caption1 className={styles.name}>
          {label} {formatBytes(attachment.size)}
        </Caption1>
        {attachment.downloadUrl ? (
          <Button size="small" appearance="subtle" onClick={() => void download()} aria-label={`Download ${label}`}>
            Download
          </Button>
        ) : (
          <Caption1>not fetched yet</Caption1>
        )}
      </div>
      {problem && <Caption1 role="alert">Could not load the file: {problem}</Caption1>}
    </div>
  );
}
