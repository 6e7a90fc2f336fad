import { z } from 'zod';
import { problemSchema, type Problem } from './common.js';
import { adminStatusSchema, jobListSchema, meSchema, sandboxTokenSchema, unreadDocumentListSchema } from './account.js';
import {
  conversationDetailSchema,
  conversationSummarySchema,
  messagePageSchema,
  replyAcceptedSchema,
  windowStateSchema,
  type Assign,
  type ListConversationsQuery,
  type ListMessagesQuery,
  type ReplyRequest,
} from './conversations.js';
import { matterLinkSchema, matterSchema, type CreateMatter, type ListMattersQuery } from './matters.js';
import { auditPageSchema, type AuditQuery } from './audit.js';
import { deletionCertificateSchema, dueConversationSchema, legalHoldSchema, matterRetentionSchema, type DueQuery, type ListHoldsQuery, type PlaceHold, type ReleaseHold } from './holds.js';
import { importSummarySchema, type ImportQuery } from './imports.js';
import { apiPaths as paths } from './contract.js';
import { bundleShaHeader, type ExportRequest } from './exports.js';
import { searchResponseSchema, type SearchQuery } from './search.js';

/** An error answer from the API, with its problem document. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail);
    this.name = 'ApiError';
  }
  get code(): string {
    return this.problem.code;
  }
}

export interface ApiClientOptions {
  /** Origin of the bridge, e.g. https://wa.firm.example; '' for same-origin pages. */
  baseUrl: string;
  /** Supplies a current access token for each call (MSAL, Office SSO, the sandbox sign-in). */
  getToken: () => Promise<string>;
  /**
   * Called once when a call is refused with 401, before it is tried again: the token source gets a
   * new token (a restarted sandbox bridge no longer trusts the demo token it handed out before).
   */
  renewToken?: () => Promise<void>;
  fetch?: typeof fetch;
}

/** The bridge did not answer at all: stopped, restarting, or the network is down. */
export class BridgeUnreachableError extends Error {
  constructor() {
    super('The bridge cannot be reached (it may be stopped or restarting). Nothing was changed; try again in a moment.');
    this.name = 'BridgeUnreachableError';
  }
}

type Query = Record<string, string | number | boolean | undefined | null>;


/**
 * A typed client for the API: every answer is checked against the shared schemas, so a server
 * that drifted from the contract fails loudly here instead of rendering nonsense. Error answers
 * throw ApiError carrying the problem document.
 */
export function createApiClient(options: ApiClientOptions) {
  const doFetch = options.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
  const url = (path: string, query?: Query) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
    const search = params.toString();
    return `${options.baseUrl}${path}${search ? `?${search}` : ''}`;
  };

  async function send(method: string, path: string, init: { query?: Query; body?: unknown; file?: { data: Blob; type: string }; auth?: boolean } = {}, renewed = false): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (init.auth !== false) headers.authorization = `Bearer ${await options.getToken()}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    if (init.file !== undefined) headers['content-type'] = init.file.type;
    const body = init.file !== undefined ? init.file.data : init.body !== undefined ? JSON.stringify(init.body) : undefined;
    let response: Response;
    try {
      response = await doFetch(url(path, init.query), { method, headers, ...(body !== undefined ? { body } : {}) });
    } catch (error) {
      // fetch rejects with a TypeError ("Failed to fetch") when no answer came at all.
      if (error instanceof TypeError) throw new BridgeUnreachableError();
      throw error;
    }
    if (response.status === 401 && init.auth !== false && !renewed && options.renewToken) {
      await options.renewToken();
      return send(method, path, init, true);
    }
    if (!response.ok) throw await toApiError(response);
    return response;
  }

  async function call<T extends z.ZodType>(schema: T, method: string, path: string, init?: { query?: Query; body?: unknown; file?: { data: Blob; type: string }; auth?: boolean }): Promise<z.infer<T>> {
    const response = await send(method, path, init);
    return schema.parse(await response.json());
  }

  const conversationPage = z.object({ items: z.array(conversationSummarySchema), nextCursor: z.string().nullable() });
  const linkList = z.object({ items: z.array(matterLinkSchema) });
  const matterList = z.object({ items: z.array(matterSchema) });
  const holdList = z.object({ items: z.array(legalHoldSchema) });
  const dueList = z.object({ items: z.array(dueConversationSchema) });
  const certificateList = z.object({ items: z.array(deletionCertificateSchema) });

  return {
    me: () => call(meSchema, 'GET', paths.me),
    sandboxToken: () => call(sandboxTokenSchema, 'GET', paths.sandboxToken, { auth: false }),
    listConversations: (query: ListConversationsQuery = {}) => call(conversationPage, 'GET', paths.conversations, { query: query as Query }),
    getConversation: (id: number) => call(conversationDetailSchema, 'GET', paths.conversation(id)),
    conversationByChatId: (chatId: string) => call(conversationDetailSchema, 'GET', paths.conversationByChatId(chatId)),
    listMessages: (id: number, query: ListMessagesQuery = {}) => call(messagePageSchema, 'GET', paths.messages(id), { query: query as Query }),
    window: (id: number) => call(windowStateSchema, 'GET', paths.window(id)),
    reply: (id: number, body: ReplyRequest) => call(replyAcceptedSchema, 'POST', paths.replies(id), { body }),
    assign: (id: number, body: Assign) => call(conversationDetailSchema, 'PUT', paths.assignee(id), { body }),
    listLinks: (id: number) => call(linkList, 'GET', paths.links(id)),
    link: (id: number, matterId: number) => call(matterLinkSchema, 'POST', paths.links(id), { body: { matterId } }),
    unlink: (id: number, linkId: number) => call(matterLinkSchema, 'DELETE', paths.link(id, linkId)),
    /** Uploads a chat export (.txt or .zip) into the conversation; the summary says what was added. */
    importExport: (id: number, file: Blob, query: ImportQuery) =>
      call(importSummarySchema, 'POST', paths.imports(id), { query: query as Query, file: { data: file, type: /\.zip$/i.test(query.fileName) ? 'application/zip' : 'text/plain' } }),
    /** The attachment's bytes (use URL.createObjectURL for previews; img src cannot carry the token). */
    downloadAttachment: async (downloadUrl: string): Promise<Blob> => (await send('GET', downloadUrl)).blob(),
    attachmentPath: paths.attachment,
    listMatters: (query: ListMattersQuery = {}) => call(matterList, 'GET', paths.matters, { query: query as Query }),
    createMatter: (body: CreateMatter) => call(matterSchema, 'POST', paths.matters, { body }),
    getMatter: (id: number) => call(matterSchema, 'GET', paths.matter(id)),
    closeMatter: (id: number) => call(matterSchema, 'POST', paths.closeMatter(id)),
    addMember: (id: number, email: string) => call(matterSchema, 'POST', paths.matterMembers(id), { body: { email } }),
    matterRetention: (id: number) => call(matterRetentionSchema, 'GET', paths.matterRetention(id)),
    listHolds: (query: ListHoldsQuery = {}) => call(holdList, 'GET', paths.holds, { query: query as Query }),
    placeHold: (body: PlaceHold) => call(legalHoldSchema, 'POST', paths.holds, { body }),
    releaseHold: (id: number, body: ReleaseHold) => call(legalHoldSchema, 'POST', paths.releaseHold(id), { body }),
    retentionDue: (query: DueQuery = {}) => call(dueList, 'GET', paths.retentionDue, { query: query as Query }),
    deletionCertificates: () => call(certificateList, 'GET', paths.deletionCertificates),
    /** A deletion certificate's bytes as stored (their SHA-256 is the one the list gives). */
    deletionCertificate: async (id: number): Promise<Blob> => (await send('GET', paths.deletionCertificate(id))).blob(),
    search: (query: SearchQuery) => call(searchResponseSchema, 'GET', paths.search, { query: query as Query }),
    adminStatus: () => call(adminStatusSchema, 'GET', paths.adminStatus),
    listJobs: () => call(jobListSchema, 'GET', paths.adminJobs),
    listUnreadDocuments: () => call(unreadDocumentListSchema, 'GET', paths.adminUnreadDocuments),
    retryJob: async (id: number): Promise<void> => void (await send('POST', paths.retryJob(id))),
    audit: (query: AuditQuery = {}) => call(auditPageSchema, 'GET', paths.audit, { query: query as Query }),
    /**
     * Every audit entry the filter matches, as the CSV file `wa-bridge audit --format csv` writes,
     * with the file name the bridge suggests.
     */
    auditCsv: async (query: Omit<AuditQuery, 'cursor' | 'limit'> = {}): Promise<{ csv: Blob; fileName: string | null }> => {
      const response = await send('GET', paths.audit, { query: { ...query, format: 'csv' } as Query });
      return { csv: await response.blob(), fileName: suggestedFileName(response) };
    },
    /**
     * An evidence bundle: the zip, its SHA-256 as the bridge computed it (X-Bundle-SHA256) and the
     * file name the bridge suggests (Content-Disposition), when it gives one.
     */
    exportEvidence: async (body: ExportRequest): Promise<{ zip: Blob; sha256: string; fileName: string | null }> => {
      const response = await send('POST', paths.exports, { body });
      return { zip: await response.blob(), sha256: response.headers.get(bundleShaHeader) ?? '', fileName: suggestedFileName(response) };
    },
    /**
     * The URL to open with EventSource for live updates (the token goes in the query because
     * EventSource cannot send an Authorization header). Parse each event's data with
     * streamEventSchema. Get a fresh URL when reconnecting: tokens expire.
     */
    streamUrl: async (conversationId?: number): Promise<string> =>
      url(paths.stream, { conversation: conversationId, access_token: await options.getToken() }),
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;

/** The file name a download's Content-Disposition suggests, when it gives one. */
function suggestedFileName(response: Response): string | null {
  return /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? null;
}

async function toApiError(response: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const parsed = problemSchema.safeParse(body);
  const problem: Problem = parsed.success
    ? parsed.data
    : { type: 'about:blank', status: response.status, code: 'http_error', title: response.statusText || 'Error', detail: `The bridge answered ${response.status} without a problem document.` };
  return new ApiError(response.status, problem);
}
