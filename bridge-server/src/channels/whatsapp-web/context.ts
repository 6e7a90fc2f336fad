import type { WebChat, WebClient, WebMessage, WebReaction } from './client-port.js';
import { chatIdOf, chatKindOf, phoneDigitsOf, reactionChatIdOf } from './jid.js';
import { describeError, type WebLogger } from './log-port.js';
import type { NormalizeContext } from './normalize.js';

/**
 * Looks up, through the live client, what normalize.ts needs but cannot ask for itself: the phone
 * number behind a `@lid` id (getContactLidAndPhone, PR #3673), the quoted message's id and the
 * chat's name. One per client instance; answers are cached for its life. A failed lookup leaves
 * the fact unknown (logged), never the event undelivered.
 */
export class ContextResolver {
  private readonly phones = new Map<string, string | null>();
  private readonly chatNames = new Map<string, string | null>();

  constructor(
    private readonly client: WebClient,
    private readonly business: NormalizeContext['business'],
    private readonly logger: WebLogger,
  ) {}

  /** Records a chat's name from getChats(), saving a lookup per chat later. */
  rememberChat(chat: WebChat): void {
    this.chatNames.set(chat.id._serialized, usableName(chat.name));
  }

  async forMessage(message: WebMessage): Promise<NormalizeContext> {
    const chatId = chatIdOf(message);
    await this.resolveLids([chatId, message.author]);
    return { ...(await this.base(chatId)), quotedWaMessageId: await this.quotedIdOf(message) };
  }

  async forReaction(reaction: WebReaction): Promise<NormalizeContext> {
    const chatId = reactionChatIdOf(reaction) ?? '';
    await this.resolveLids([chatId, reaction.senderId]);
    return this.base(chatId);
  }

  private async base(chatId: string): Promise<NormalizeContext> {
    return {
      business: this.business,
      phoneOf: (lid) => this.phones.get(lid) ?? undefined,
      chatName: await this.chatNameOf(chatId),
    };
  }

  private async resolveLids(ids: ReadonlyArray<string | undefined>): Promise<void> {
    const unknown = [...new Set(ids)].filter((id): id is string => id !== undefined && chatKindOf(id) === 'lid' && !this.phones.has(id));
    if (unknown.length === 0) return;
    try {
      const pairs = await this.client.getContactLidAndPhone(unknown);
      for (const id of unknown) {
        const pair = pairs.find((p) => p.lid === id);
        this.phones.set(id, pair?.pn ? (phoneDigitsOf(pair.pn) ?? null) : null);
      }
    } catch (error) {
      this.logger.warn({ lids: unknown.length, ...describeError(error) }, 'could not map @lid ids to phone numbers');
    }
  }

  private async chatNameOf(chatId: string): Promise<string | undefined> {
    if (!this.chatNames.has(chatId)) {
      try {
        this.chatNames.set(chatId, usableName((await this.client.getChatById(chatId)).name));
      } catch (error) {
        this.logger.debug({ chatId, ...describeError(error) }, 'could not read the chat name');
        this.chatNames.set(chatId, null);
      }
    }
    return this.chatNames.get(chatId) ?? undefined;
  }

  private async quotedIdOf(message: WebMessage): Promise<string | undefined> {
    if (!message.hasQuotedMsg) return undefined;
    try {
      return (await message.getQuotedMessage())?.id._serialized || undefined;
    } catch (error) {
      this.logger.debug({ waMessageId: message.id._serialized, ...describeError(error) }, 'could not resolve the quoted message');
      return undefined;
    }
  }
}

/** WhatsApp Web names an unsaved contact by its formatted number; that is no name. */
function usableName(name: string | undefined): string | null {
  const trimmed = name?.trim();
  return trimmed && !/^[+\d\s().-]+$/.test(trimmed) ? trimmed : null;
}
