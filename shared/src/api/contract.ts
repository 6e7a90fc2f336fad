/**
 * The bridge's HTTP API, defined once for the server, the Outlook add-in and the Teams tab.
 *
 * Every route needs `Authorization: Bearer <Entra ID access token>` (the stream also takes
 * `?access_token=` because EventSource cannot send headers). Errors are problem documents
 * (`problemSchema`, media type application/problem+json).
 *
 *   GET    /api/me                                   -> Me
 *   GET    /api/sandbox/token                        -> SandboxToken (sandbox only, no token needed)
 *   GET    /api/conversations?matterId&unlinked&cursor&limit -> Page<ConversationSummary>
 *   GET    /api/conversations/by-chat-id/:chatId     -> ConversationDetail
 *   GET    /api/conversations/:id                    -> ConversationDetail
 *   GET    /api/conversations/:id/messages?cursor&limit -> MessagePage
 *   GET    /api/conversations/:id/window             -> WindowState
 *   POST   /api/conversations/:id/replies            ReplyRequest -> 202 ReplyAccepted
 *   PUT    /api/conversations/:id/assignee           Assign -> ConversationDetail
 *   GET    /api/conversations/:id/links              -> { items: MatterLink[] }
 *   POST   /api/conversations/:id/links              CreateLink -> 201 MatterLink
 *   DELETE /api/conversations/:id/links/:linkId      -> MatterLink (ended; kept in history)
 *   POST   /api/conversations/:id/imports?fileName&timeZone&firmAuthors  the export file (text/plain
 *                                                    or application/zip) -> 201 ImportSummary
 *   GET    /api/attachments/:id                      -> the file's bytes
 *   GET    /api/matters?state&q                      -> { items: Matter[] }
 *   POST   /api/matters                              CreateMatter -> 201 Matter
 *   GET    /api/matters/:id                          -> Matter
 *   POST   /api/matters/:id/close                    -> Matter
 *   POST   /api/matters/:id/members                  AddMember -> Matter
 *   GET    /api/matters/:id/retention                -> MatterRetention
 *   GET    /api/search?q&matterId&conversationId&client&from&to&direction&cursor&limit -> SearchResponse
 *   GET    /api/stream?conversation                  -> text/event-stream of StreamEvent
 *   GET    /api/admin/status                         -> AdminStatus (Admin)
 *   GET    /api/admin/jobs                           -> JobList (Admin; jobs needing attention)
 *   POST   /api/admin/jobs/:id/retry                 -> 204 (Admin)
 *   GET    /api/audit?from&to&actor&action&target&cursor&limit -> AuditPage (ComplianceOfficer)
 *   GET    /api/audit?format=csv&from&to&actor&action&target -> text/csv of every matching entry (ComplianceOfficer)
 *   POST   /api/exports                              ExportRequest -> the evidence bundle (zip)
 *                                                    (ComplianceOfficer, Admin; CaseHandler for conversations they see;
 *                                                    a subject access request, by person: ComplianceOfficer)
 *   GET    /api/holds?all                            -> { items: LegalHold[] } (ComplianceOfficer)
 *   POST   /api/holds                                PlaceHold -> 201 LegalHold (ComplianceOfficer)
 *   POST   /api/holds/:id/release                    ReleaseHold -> LegalHold (ComplianceOfficer)
 *   GET    /api/retention/due?days                   -> { items: DueConversation[] } (ComplianceOfficer)
 *   GET    /api/retention/certificates               -> { items: DeletionCertificate[] } (ComplianceOfficer)
 *   GET    /api/retention/certificates/:id           -> the certificate's JSON as stored (ComplianceOfficer)
 *
 * Roles: Solicitor (conversations of their matters, plus unlinked ones assigned to them),
 * CaseHandler (conversations of their matters), ComplianceOfficer (all, read-only; legal holds), Admin (all but
 * legal holds).
 *
 * Schemas and types live beside this file, one module per resource, imported by path:
 * `@wa-bridge/shared/api/common` (roles, problem documents, pages), `.../api/conversations`
 * (summaries, messages, replies, window), `.../api/matters` (matters and links), `.../api/search`,
 * `.../api/stream` (server-sent events), `.../api/account` (me, sandbox sign-in, admin status),
 * `.../api/audit` (the audit trail), `.../api/exports` (evidence bundles), `.../api/imports` (chat
 * export imports), `.../api/holds` (legal holds, retention and deletion certificates), `.../api/client` (the
 * typed fetch client).
 */
const enc = encodeURIComponent;

/** Paths of every route, so callers never assemble them by hand. */
export const apiPaths = {
  me: '/api/me',
  sandboxToken: '/api/sandbox/token',
  conversations: '/api/conversations',
  conversationByChatId: (chatId: string) => `/api/conversations/by-chat-id/${enc(chatId)}`,
  conversation: (id: number) => `/api/conversations/${id}`,
  messages: (id: number) => `/api/conversations/${id}/messages`,
  window: (id: number) => `/api/conversations/${id}/window`,
  replies: (id: number) => `/api/conversations/${id}/replies`,
  assignee: (id: number) => `/api/conversations/${id}/assignee`,
  links: (id: number) => `/api/conversations/${id}/links`,
  link: (id: number, linkId: number) => `/api/conversations/${id}/links/${linkId}`,
  imports: (id: number) => `/api/conversations/${id}/imports`,
  attachment: (id: number) => `/api/attachments/${id}`,
  matters: '/api/matters',
  matter: (id: number) => `/api/matters/${id}`,
  closeMatter: (id: number) => `/api/matters/${id}/close`,
  matterMembers: (id: number) => `/api/matters/${id}/members`,
  matterRetention: (id: number) => `/api/matters/${id}/retention`,
  search: '/api/search',
  stream: '/api/stream',
  adminStatus: '/api/admin/status',
  adminJobs: '/api/admin/jobs',
  adminUnreadDocuments: '/api/admin/unread-documents',
  retryJob: (id: number) => `/api/admin/jobs/${id}/retry`,
  audit: '/api/audit',
  exports: '/api/exports',
  holds: '/api/holds',
  releaseHold: (id: number) => `/api/holds/${id}/release`,
  retentionDue: '/api/retention/due',
  deletionCertificates: '/api/retention/certificates',
  deletionCertificate: (id: number) => `/api/retention/certificates/${id}`,
} as const;
