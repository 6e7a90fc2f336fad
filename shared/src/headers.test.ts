import { describe, expect, it } from 'vitest';
import { chatIdFromHeaders } from './headers.js';

describe('chatIdFromHeaders', () => {
  it('finds the chat id in a raw header block regardless of case and folding', () => {
    const raw = 'Subject: WhatsApp · Jane\r\nx-whatsapp-chat-id:\r\n  i5y2nbfbf6hblfu5dt67phhq27\r\nFrom: a@b.test\r\n';
    expect(chatIdFromHeaders(raw)).toBe('i5y2nbfbf6hblfu5dt67phhq27');
  });

  it('ignores a header that is absent or not a chat id', () => {
    expect(chatIdFromHeaders('Subject: hello\r\n')).toBeUndefined();
    expect(chatIdFromHeaders('X-WhatsApp-Chat-Id: ../../etc/passwd\r\n')).toBeUndefined();
  });
});
