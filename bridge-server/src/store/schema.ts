import type { ColumnType, Generated } from 'kysely';

/** Row types of every table, as Kysely sees them. Column names follow the SQL (snake_case). */
export interface ConversationsTable {
  id: Generated<number>;
  tenant: string;
  channel: string;
  chat_key: string;
  chat_token: string;
  business_id: string;
  business_display_number: string | null;
  client_wa_id: string | null;
  client_user_id: string | null;
  client_name: string | null;
  subject: string;
  opened_at: number;
  last_seq: Generated<number>;
  chain_head: Generated<string>;
  created_at: number;
}

export interface EventsTable {
  id: Generated<number>;
  conversation_id: number;
  seq: number;
  tenant: string;
  channel: string;
  wa_message_id: string;
  kind: string;
  version_key: string;
  direction: string;
  content_type: string | null;
  wa_timestamp: number;
  event_json: string;
  chain_sha256: string;
  received_at: number;
}

export interface BlobsTable {
  sha256: string;
  size: number;
  created_at: number;
  /** The stored bytes (sealed when sealed) of a small blob kept here; null: in the blob store. */
  content: ColumnType<Buffer | null, Buffer | null | undefined, Buffer | null>;
}

export interface AttachmentsTable {
  id: Generated<number>;
  event_id: number;
  ordinal: number;
  wa_media_id: string;
  mime_type: string;
  file_name: string | null;
  announced_sha256: string | null;
  sha256: string | null;
  size: number | null;
  fetched_at: number | null;
  /** A document's reading for search: pending, working:<ms>, indexed, none: <reason>; NULL for other media. */
  text_state: string | null;
}

export interface StatusesTable {
  id: Generated<number>;
  tenant: string;
  channel: string;
  wa_message_id: string;
  status: string;
  wa_timestamp: number;
  recipient_id: string | null;
  callback_data: string | null;
  status_json: string;
  received_at: number;
}

export interface MailRelaysTable {
  id: Generated<number>;
  conversation_id: number;
  event_id: number | null;
  mail_message_id: string;
  raw_sha256: string;
  state: string;
  prepared_at: number;
  sent_at: number | null;
  response: string | null;
}

export interface OutboxJobsTable {
  id: Generated<number>;
  kind: string;
  payload_json: string;
  conversation_id: number | null;
  sort_key: number;
  state: Generated<string>;
  attempts: Generated<number>;
  run_at: number;
  locked_until: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

/** A lease on a shared resource (the WhatsApp Web session): one owner until `expires_at`. */
export interface LeasesTable {
  name: string;
  owner: string;
  /** Counts changes of owner, so each ownership has its own number. */
  generation: number;
  acquired_at: number;
  expires_at: number;
}

export interface CatchUpNumbersTable {
  business_id: string;
  linked_at: number;
}

export interface CatchUpMarksTable {
  business_id: string;
  chat_id: string;
  mark: number;
}

export interface SchemaMigrationsTable {
  name: string;
  applied_at: number;
}

export interface Database {
  conversations: ConversationsTable;
  events: EventsTable;
  blobs: BlobsTable;
  attachments: AttachmentsTable;
  statuses: StatusesTable;
  mail_relays: MailRelaysTable;
  outbox_jobs: OutboxJobsTable;
  schema_migrations: SchemaMigrationsTable;
  leases: LeasesTable;
  catch_up_numbers: CatchUpNumbersTable;
  catch_up_marks: CatchUpMarksTable;
  outbound_commands: OutboundCommandsTable;
  outbound_parts: OutboundPartsTable;
  matters: MattersTable;
  matter_members: MatterMembersTable;
  matter_links: MatterLinksTable;
  conversation_assignees: ConversationAssigneesTable;
  message_search: MessageSearchTable;
}

export interface OutboundCommandsTable {
  id: Generated<number>;
  conversation_id: number;
  command_json: string;
  source_kind: string;
  source_ref: string;
  state: Generated<string>;
  error_code: string | null;
  error_message: string | null;
  created_at: number;
  updated_at: number;
}

export interface OutboundPartsTable {
  id: Generated<number>;
  command_id: number;
  part_index: number;
  wa_message_id: string;
  status: Generated<string>;
  status_rank: Generated<number>;
  status_at: number;
  sent_at: number;
}

export interface MattersTable {
  id: Generated<number>;
  reference: string;
  title: string;
  matter_type: string | null;
  state: Generated<string>;
  created_at: number;
  created_by: string;
  closed_at: number | null;
  closed_by: string | null;
}

export interface MatterMembersTable {
  matter_id: number;
  upn: string;
  name: string | null;
  added_at: number;
  added_by: string;
}

export interface MatterLinksTable {
  id: Generated<number>;
  conversation_id: number;
  matter_id: number;
  linked_at: number;
  linked_by: string;
  unlinked_at: number | null;
  unlinked_by: string | null;
}

export interface ConversationAssigneesTable {
  conversation_id: number;
  assignee: string;
  assigned_at: number;
  assigned_by: string;
}

/** The FTS5 index of message text; rowid is the event id. */
export interface MessageSearchTable {
  rowid: number;
  body: string;
}
