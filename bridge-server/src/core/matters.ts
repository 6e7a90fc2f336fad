import { ConflictError } from './errors.js';

/**
 * Matter and link rules. A conversation belongs to matters through links, each a period with a
 * start and an optional end; ending a link keeps it as history, so "which matter was this chat
 * part of in March" stays answerable. A closed matter takes no new links; its links in force stay
 * until someone ends them.
 */
export interface MatterFacts {
  id: number;
  reference: string;
  state: 'open' | 'closed';
}

export interface LinkFacts {
  id: number;
  matterId: number;
  unlinkedAt: number | null;
}

/** Sign-in names compare case-insensitively (Entra ID treats them so). */
export const normalizeUpn = (upn: string): string => upn.trim().toLowerCase();

export function assertCanLink(matter: MatterFacts, linksInForce: readonly LinkFacts[]): void {
  if (matter.state === 'closed') throw new ConflictError('matter_closed', `Matter ${matter.reference} is closed and takes no new conversations; link this one to an open matter.`);
  if (linksInForce.some((link) => link.matterId === matter.id && link.unlinkedAt === null)) {
    throw new ConflictError('already_linked', `The conversation is already linked to matter ${matter.reference}.`);
  }
}

export function assertCanUnlink(link: LinkFacts): void {
  if (link.unlinkedAt !== null) throw new ConflictError('link_ended', `Link ${link.id} has already ended; it stays in the history.`);
}

export function assertCanClose(matter: MatterFacts): void {
  if (matter.state === 'closed') throw new ConflictError('matter_closed', `Matter ${matter.reference} is already closed.`);
}

/** A stretch of WhatsApp time, ms since the epoch; null for an open end. */
export interface Period {
  from: number | null;
  to: number | null;
}

/**
 * When a conversation's events belong to a matter, from the conversation's links (to every
 * matter, ended or not): from each link to this matter until it ended. What the client wrote
 * before the conversation's first link to any matter counts with that first link, since that is
 * what the solicitor linked; after a conversation moved to another matter, what followed belongs
 * there, not here. Overlapping or touching periods are merged; empty for a matter never linked.
 */
export function matterPeriods(links: ReadonlyArray<{ matterId: number; linkedAt: number; unlinkedAt: number | null }>, matterId: number): Period[] {
  const firstLinkAt = Math.min(...links.map((link) => link.linkedAt));
  const own = links
    .filter((link) => link.matterId === matterId)
    .map((link) => ({ from: link.linkedAt === firstLinkAt ? null : link.linkedAt, to: link.unlinkedAt }))
    .sort((a, b) => (a.from ?? -Infinity) - (b.from ?? -Infinity));
  const merged: Period[] = [];
  for (const period of own) {
    const last = merged.at(-1);
    if (last && (last.to === null || (period.from ?? -Infinity) <= last.to)) {
      last.to = last.to === null || period.to === null ? null : Math.max(last.to, period.to);
    } else {
      merged.push({ ...period });
    }
  }
  return merged;
}

/** True when `time` falls in one of `periods` (each from its start, up to and not including its end). */
export function inPeriods(time: number, periods: readonly Period[]): boolean {
  return periods.some((p) => (p.from === null || time >= p.from) && (p.to === null || time < p.to));
}
