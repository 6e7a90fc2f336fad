import { sql, type RawBuilder } from 'kysely';
import type { ConversationScope } from '../core/access.js';

/**
 * The SQL form of core/access.ts's list rule, as a condition on a conversation id column: all;
 * linked now to a matter the user is on; or (solicitors) unlinked and assigned to the user.
 */
export function visibleConversationSql(scope: ConversationScope, conversationId: RawBuilder<unknown>): RawBuilder<boolean> {
  if (scope.kind === 'all') return sql<boolean>`1 = 1`;
  if (scope.kind === 'none') return sql<boolean>`1 = 0`;
  const onMatter = sql<boolean>`EXISTS (SELECT 1 FROM matter_links l JOIN matter_members m ON m.matter_id = l.matter_id
    WHERE l.conversation_id = ${conversationId} AND l.unlinked_at IS NULL AND m.upn = ${scope.upn})`;
  if (!scope.assigned) return onMatter;
  return sql<boolean>`(${onMatter} OR (
    EXISTS (SELECT 1 FROM conversation_assignees a WHERE a.conversation_id = ${conversationId} AND a.assignee = ${scope.upn})
    AND NOT EXISTS (SELECT 1 FROM matter_links l2 WHERE l2.conversation_id = ${conversationId} AND l2.unlinked_at IS NULL)))`;
}

/** Opaque keyset cursors: a time and an id, base64url. */
export function encodeCursor(at: number, id: number): string {
  return Buffer.from(`${at}:${id}`).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): { at: number; id: number } | undefined | 'invalid' {
  if (cursor === undefined) return undefined;
  const match = /^(-?\d{1,16}):(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString());
  return match ? { at: Number(match[1]), id: Number(match[2]) } : 'invalid';
}
