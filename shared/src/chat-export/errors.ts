/** Why a file was refused as a chat export; `message` is one line for a person. */
export type ChatExportErrorCode = 'not_an_export' | 'binary_data' | 'message_too_long';

export class ChatExportError extends Error {
  constructor(
    readonly code: ChatExportErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ChatExportError';
  }
}
