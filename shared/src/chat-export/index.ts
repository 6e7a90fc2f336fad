// The package entry of "@wa-bridge/shared/chat-export": the parser the server, the Teams tab and
// the add-in share. Named exports only, so each import still says which file defines it.
export { ChatExportNdjsonParser, ChatExportParser, parseChatExportText, startsMessageAlone, toNdjsonLine, type ChatMessage, type ParsedMessage, type ParserOptions } from './parser.js';
export { ExportProfiler, mergeProfiles, type ExportProfile, type PartialProfile } from './profile.js';
export { encodingOf, ExportDecoder } from './decode.js';
export { ChatExportError, type ChatExportErrorCode } from './errors.js';
export { dateOrders, type DateOrder } from './date-order.js';
