/**
 * A small multipart/form-data reader (RFC 7578) for the simulator's media upload endpoint. It reads
 * whole buffered bodies of well-formed forms, which is all a test double needs; it is not a
 * general-purpose parser and is never used on untrusted production traffic.
 */
export interface FormPart {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/** The parts of the form, or undefined when the body is not a multipart form with that boundary. */
export function parseMultipart(body: Buffer, contentType: string | undefined): FormPart[] | undefined {
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  const boundaryText = match?.[1] ?? match?.[2];
  if (!boundaryText) return undefined;
  const delimiter = Buffer.from(`--${boundaryText}`);
  const nextDelimiter = Buffer.from(`\r\n--${boundaryText}`);

  const parts: FormPart[] = [];
  let at = body.indexOf(delimiter);
  if (at < 0) return undefined;
  at += delimiter.length;
  while (body.subarray(at, at + 2).toString('latin1') !== '--') {
    if (body.subarray(at, at + 2).toString('latin1') !== '\r\n') return undefined;
    const headerEnd = body.indexOf('\r\n\r\n', at + 2);
    if (headerEnd < 0) return undefined;
    const end = body.indexOf(nextDelimiter, headerEnd + 4);
    if (end < 0) return undefined;
    const part = toPart(body.subarray(at + 2, headerEnd).toString('utf8'), body.subarray(headerEnd + 4, end));
    if (!part) return undefined;
    parts.push(part);
    at = end + nextDelimiter.length;
  }
  return parts;
}

function toPart(headerText: string, data: Buffer): FormPart | undefined {
  const headers = new Map(
    headerText.split('\r\n').map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()] as const;
    }),
  );
  const disposition = headers.get('content-disposition') ?? '';
  const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
  if (name === undefined) return undefined;
  const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
  return { name, filename, contentType: headers.get('content-type'), data };
}
