import { describe, expect, it } from 'vitest';
import { extensionForMimeType, safeFileName, safeMimeType } from './file-name.js';

describe('safeFileName', () => {
  it('keeps an ordinary name', () => {
    expect(safeFileName('Contract v2 (signed).pdf')).toBe('Contract v2 (signed).pdf');
  });

  it('removes path separators, so a name cannot climb out of a folder', () => {
    const name = safeFileName('../../etc/passwd');
    expect(name).not.toMatch(/[/\\]/);
    expect(name.startsWith('.')).toBe(false);
    expect(safeFileName('C:\\Users\\x\\evil.exe')).toBe('C__Users_x_evil.exe');
  });

  it('removes control and bidi characters (no "invoice‮fdp.exe" tricks)', () => {
    const name = safeFileName('invoice\u202Efdp.exe\r\n\u0000');
    expect(name).not.toMatch(/[\p{Cc}\u202E]/u);
    expect(name).toBe('invoice fdp.exe');
  });

  it('strips leading dots and trailing dots and spaces', () => {
    expect(safeFileName('.bashrc')).toBe('bashrc');
    expect(safeFileName('report.pdf. . ')).toBe('report.pdf');
  });

  it('caps the length at 120 characters and keeps the extension', () => {
    const name = safeFileName(`${'a'.repeat(300)}.docx`);
    expect(name).toHaveLength(120);
    expect(name.endsWith('.docx')).toBe(true);
  });

  it('is never empty', () => {
    expect(safeFileName('')).toBe('attachment');
    expect(safeFileName('...', 'image-abc.jpg')).toBe('image-abc.jpg');
    expect(safeFileName('\u0000\r\n')).toBe('attachment');
  });

  it('defuses Windows device names', () => {
    expect(safeFileName('CON.txt')).toBe('_CON.txt');
  });
});

describe('media types', () => {
  it('keeps the bare type and refuses anything that is not one', () => {
    expect(safeMimeType('Audio/OGG; codecs=opus')).toBe('audio/ogg');
    expect(safeMimeType('text/html\r\nBcc: x')).toBe('application/octet-stream');
    expect(safeMimeType('')).toBe('application/octet-stream');
  });

  it('maps WhatsApp media types to extensions', () => {
    expect(extensionForMimeType('image/jpeg')).toBe('jpg');
    expect(extensionForMimeType('audio/ogg; codecs=opus')).toBe('ogg');
    expect(extensionForMimeType('application/x-unknown')).toBe('bin');
  });
});
