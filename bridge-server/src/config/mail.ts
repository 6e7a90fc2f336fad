import type { RawConfig } from './schema.js';

interface MailCommon {
  /** The firm address that receives mirrored mail. */
  mailbox: string;
  /** SMTP envelope sender (bounces); the Graph route sends from its mailbox instead. */
  envelopeFrom: string;
}

/** Mirrored mail through the firm's SMTP gateway (the default route). */
export interface SmtpMailSettings extends MailCommon {
  smtpUrl: string;
  maxConnections: number;
}

/** Mirrored mail through Microsoft Graph sendMail from a bridge mailbox, with client credentials. */
export interface GraphMailSettings extends MailCommon {
  graph: {
    /** The mailbox the bridge sends from (its UPN). */
    sendingMailbox: string;
    tenantId: string;
    clientId: string;
    clientSecret: string;
    graphBaseUrl: string;
    authorityHost: string;
    maxConcurrent: number;
  };
}

export type MailSettings = SmtpMailSettings | GraphMailSettings;

const entraHost = 'https://login.microsoftonline.com';
const graphRoute = 'with WA_BRIDGE_MAIL_TRANSPORT=graph';

/**
 * The mail route outside the sandbox, from WA_BRIDGE_MAIL_TRANSPORT: SMTP by default, or Graph.
 * Pushes one line per missing or contradictory setting, naming the variable; undefined then.
 */
export function resolveMail(raw: RawConfig, mailDomain: string | undefined, problems: string[]): MailSettings | undefined {
  const smtp = raw.mailTransport === 'smtp';
  if (smtp && raw.smtpUrl === undefined) problems.push('WA_BRIDGE_SMTP_URL: required outside the sandbox (e.g. smtp://mail.firm.example:25)');
  if (raw.mailbox === undefined) problems.push('WA_BRIDGE_MAILBOX: required outside the sandbox (the firm address that receives mirrored mail)');
  if (mailDomain === undefined) problems.push('WA_BRIDGE_MAIL_DOMAIN: required outside the sandbox (e.g. wa.firm.example)');

  if (smtp) {
    if (!raw.smtpUrl || !raw.mailbox || !mailDomain) return undefined;
    return { smtpUrl: raw.smtpUrl, maxConnections: raw.smtpMaxConnections, mailbox: raw.mailbox, envelopeFrom: raw.envelopeFrom ?? `bridge@${mailDomain}` };
  }

  const tenantId = raw.graphTenantId ?? raw.authTenantId;
  if (raw.graphMailbox === undefined) problems.push(`WA_BRIDGE_GRAPH_MAILBOX: required ${graphRoute} (the mailbox the bridge sends from, e.g. wa-bridge@firm.example)`);
  if (tenantId === undefined) problems.push(`WA_BRIDGE_GRAPH_TENANT_ID: required ${graphRoute} (the Entra ID tenant of the app registration; or set WA_BRIDGE_AUTH_TENANT_ID)`);
  if (raw.graphClientId === undefined) problems.push(`WA_BRIDGE_GRAPH_CLIENT_ID: required ${graphRoute} (the app registration with the Mail.Send application permission)`);
  if (raw.graphClientSecret === undefined) problems.push(`WA_BRIDGE_GRAPH_CLIENT_SECRET: required ${graphRoute} (a client secret of that app registration)`);
  if (!raw.mailbox || !mailDomain || !raw.graphMailbox || !tenantId || !raw.graphClientId || !raw.graphClientSecret) return undefined;
  return {
    mailbox: raw.mailbox,
    envelopeFrom: raw.envelopeFrom ?? `bridge@${mailDomain}`,
    graph: {
      sendingMailbox: raw.graphMailbox,
      tenantId,
      clientId: raw.graphClientId,
      clientSecret: raw.graphClientSecret,
      graphBaseUrl: raw.graphBaseUrl.replace(/\/+$/, ''),
      authorityHost: entraHost,
      maxConcurrent: raw.graphMaxConcurrent,
    },
  };
}
