/**
 * An mboxrd file (RFC 4155 gives the family; mboxrd quotes every /^>*From / line with one more
 * '>', so the messages come back out byte for byte): each mail as relayed, line ends as LF.
 */
export function toMbox(mails: ReadonlyArray<{ raw: Buffer; date: Date }>): Buffer {
  const parts: Buffer[] = [];
  for (const mail of mails) {
    const text = mail.raw.toString('latin1').replace(/\r\n/g, '\n');
    const quoted = text.replace(/^(>*From )/gm, '>$1');
    parts.push(Buffer.from(`From MAILER-DAEMON ${asctime(mail.date)}\n${quoted}${quoted.endsWith('\n') ? '' : '\n'}\n`, 'latin1'));
  }
  return Buffer.concat(parts);
}

/** asctime(3) in UTC, as the mbox From_ line wants it: "Wed Nov 25 15:20:15 2026". */
function asctime(date: Date): string {
  const [weekday, day, month, year, time] = date.toUTCString().replace(',', '').split(' ');
  return `${weekday} ${month} ${day!.padStart(2, ' ')} ${time} ${year}`;
}
