import type { ChannelStatus } from '@wa-bridge/shared/api/account';

/** What the admin view is told about each channel, as plain readings from app.ts. */
export interface ChannelReadings {
  /** The Cloud API is configured (or simulated, in the sandbox). */
  cloudApi: boolean;
  /** Webhook deliveries counted since start, by outcome. */
  webhookCounts: () => Promise<Record<string, number>>;
  /** The whatsapp-web.js session's state, when that channel is on. */
  whatsappWeb?: () => { state: string; qr?: string; pairingCode?: string; businessId?: string; lastError?: string; standby?: string };
}

export async function readChannelStatus(readings: ChannelReadings): Promise<ChannelStatus[]> {
  const out: ChannelStatus[] = [];
  if (readings.cloudApi) {
    const webhooks = await readings.webhookCounts();
    const rejected = (webhooks.rejected_signature ?? 0) + (webhooks.bad_payload ?? 0) + (webhooks.error ?? 0);
    out.push({
      kind: 'cloud-api',
      state: 'configured',
      detail: rejected > 0 ? `${rejected} webhook deliveries refused since start (bad signature, bad payload or error); see /metrics.` : null,
      qr: null,
      pairingCode: null,
      webhooks,
    });
  }
  if (readings.whatsappWeb) {
    const session = readings.whatsappWeb();
    const state = session.state === 'ready' ? 'connected' : session.state === 'qr' || session.state === 'pairing-code' ? 'pairing' : session.state === 'standby' ? 'standby' : 'disconnected';
    out.push({
      kind: 'whatsapp-web',
      state,
      detail: session.standby ?? session.lastError ?? (session.businessId ? `linked to +${session.businessId}` : session.state),
      qr: session.state === 'qr' ? (session.qr ?? null) : null,
      pairingCode: session.state === 'pairing-code' ? (session.pairingCode ?? null) : null,
      webhooks: null,
    });
  }
  return out;
}
