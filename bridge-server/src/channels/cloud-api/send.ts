import { OutcomeUnknownError, UpstreamError, WindowClosedError } from '../../core/errors.js';
import type { Channel, OutboundMessage, SendReceipt } from '../../core/ports.js';
import type { ApprovedTemplate } from '../../core/templates.js';

export interface CloudSenderOptions {
  baseUrl: string;
  apiVersion: string;
  accessToken: string;
  timeoutMs?: number;
  /** Offered in the error when WhatsApp refuses a message outside the 24-hour window. */
  templates?: ApprovedTemplate[];
  now?: () => number;
}

interface GraphError {
  error?: { code?: number; message?: string; error_data?: { details?: string } };
}

/** Cloud API error 131047: more than 24 hours since the customer last wrote (Meta error codes). */
const REENGAGEMENT_REQUIRED = 131047;

/**
 * Sends through the Cloud API (Meta Messages reference): `POST /{version}/{phone-number-id}/messages`;
 * files are uploaded first with `POST /{version}/{phone-number-id}/media` so no link to the file
 * is ever exposed. `biz_opaque_callback_data` carries the reply's id back on statuses.
 */
export class CloudApiSender implements Channel {
  readonly kind = 'cloud-api' as const;

  constructor(private readonly options: CloudSenderOptions) {}

  async send(message: OutboundMessage): Promise<SendReceipt> {
    const body = await this.messageBody(message);
    const answer = await this.post(`${message.businessId}/messages`, JSON.stringify(body), 'application/json', 'send the message', true);
    const id = (answer as { messages?: Array<{ id?: string }> }).messages?.[0]?.id;
    if (!id) throw new UpstreamError('whatsapp', 'WhatsApp accepted the send but returned no message id', 'transient');
    return { waMessageId: id, timestamp: (this.options.now ?? Date.now)() };
  }

  private async messageBody(message: OutboundMessage): Promise<Record<string, unknown>> {
    const base: Record<string, unknown> = {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: message.to,
      ...(message.quotedWaMessageId ? { context: { message_id: message.quotedWaMessageId } } : {}),
      ...(message.callbackData ? { biz_opaque_callback_data: message.callbackData } : {}),
    };
    if (message.template) {
      const { name, language, parameters } = message.template;
      const components = parameters.length > 0 ? [{ type: 'body', parameters: parameters.map((text) => ({ type: 'text', text })) }] : [];
      return { ...base, type: 'template', template: { name, language: { code: language }, ...(components.length > 0 ? { components } : {}) } };
    }
    const file = message.files[0];
    if (file) {
      const type = mediaType(file.mimeType);
      const id = await this.upload(message.businessId, file);
      const caption = message.text && type !== 'audio' ? { caption: message.text } : {};
      return { ...base, type, [type]: { id, ...caption, ...(type === 'document' ? { filename: file.fileName } : {}) } };
    }
    return { ...base, type: 'text', text: { body: message.text ?? '', preview_url: false } };
  }

  private async upload(businessId: string, file: { fileName: string; mimeType: string; bytes: Buffer }): Promise<string> {
    const form = new FormData();
    form.set('messaging_product', 'whatsapp');
    form.set('type', file.mimeType);
    form.set('file', new Blob([file.bytes], { type: file.mimeType }), file.fileName);
    const answer = await this.post(`${businessId}/media`, form, undefined, 'upload the file');
    const id = (answer as { id?: string }).id;
    if (!id) throw new UpstreamError('whatsapp', 'WhatsApp accepted the upload but returned no media id', 'transient');
    return id;
  }

  /**
   * POSTs to the Graph API. A request that failed on the way (no answer) is transient; with
   * `sends`, one that may have reached WhatsApp before the failure is an OutcomeUnknownError.
   */
  private async post(path: string, body: string | FormData, contentType: string | undefined, what: string, sends = false): Promise<unknown> {
    const url = `${this.options.baseUrl}/${this.options.apiVersion}/${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { Authorization: `Bearer ${this.options.accessToken}`, ...(contentType ? { 'Content-Type': contentType } : {}) },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
      });
    } catch (error) {
      const code = networkCode(error);
      if (sends && !notConnected.has(code ?? '')) {
        throw new OutcomeUnknownError('whatsapp', `no answer from WhatsApp to ${what} (${code ?? (error as Error).name}); it may have been sent, and is looked for before it is sent again`);
      }
      throw new UpstreamError('whatsapp', `could not reach WhatsApp to ${what} (${code ?? (error as Error).name})`, 'transient');
    }
    const text = await response.text();
    if (response.ok) return text ? (JSON.parse(text) as unknown) : {};
    throw this.classify(response.status, text, what);
  }

  private classify(status: number, text: string, what: string): Error {
    let graph: GraphError = {};
    try {
      graph = JSON.parse(text) as GraphError;
    } catch {
      // not JSON: keep the status only
    }
    const code = graph.error?.code;
    if (code === REENGAGEMENT_REQUIRED) {
      const templates = this.options.templates ?? [];
      const offer = templates.length > 0 ? ` Send an approved template instead: ${templates.map((t) => `${t.name} (${t.language})`).join(', ')}.` : '';
      return new WindowClosedError(`WhatsApp refused the message: more than 24 hours have passed since the client last wrote.${offer}`, templates, null);
    }
    const reason = graph.error?.message ? `: ${graph.error.message.slice(0, 300)}` : '';
    const transient = status === 429 || status >= 500 || code === 130429 || code === 131016;
    return new UpstreamError('whatsapp', `WhatsApp refused to ${what} (HTTP ${status}${code ? `, error ${code}` : ''})${reason}`, transient ? 'transient' : 'permanent', code ?? status);
  }
}

/** Failures before a connection was made: nothing reached WhatsApp. */
const notConnected = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * The system or undici error code behind a failed fetch (`fetch failed` keeps it in `cause`; when
 * every address of a name failed, in the first of `cause.errors`).
 */
function networkCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown; errors?: Array<{ code?: unknown }> } } | undefined)?.cause;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  return typeof code === 'string' ? code : undefined;
}

function mediaType(mimeType: string): 'image' | 'video' | 'audio' | 'document' {
  if (/^image\/(jpeg|png)$/.test(mimeType)) return 'image';
  if (/^video\/(mp4|3gpp)$/.test(mimeType)) return 'video';
  if (/^audio\/(aac|amr|mpeg|mp4|ogg)/.test(mimeType)) return 'audio';
  return 'document';
}
