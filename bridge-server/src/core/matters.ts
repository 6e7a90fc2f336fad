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
