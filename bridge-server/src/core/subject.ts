/**
 * A data subject of a GDPR request, named by their WhatsApp number or by the business-scoped
 * user id the Cloud API gives: how a typed number becomes the id conversations are stored under,
 * and how the audit trail names the person. The CLI and the API word their own refusals.
 */
export type Subject = { waId: string } | { userId: string };

/** A phone number as WhatsApp ids hold it: digits only, the 00 international call prefix dropped. */
export function waIdOfPhone(phone: string): string {
  const written = phone.replace(/[\s()+-]/g, '');
  return written.startsWith('00') ? written.slice(2) : written;
}

/**
 * Why a number cannot name a data subject, or null when it can. A national number (leading 0)
 * searched as written would answer "nothing held" for a client the firm has.
 */
export function phoneProblem(waId: string): 'national' | 'not_a_number' | null {
  if (waId.startsWith('0')) return 'national';
  return /^\d{8,15}$/.test(waId) ? null : 'not_a_number';
}

/** The data subject as the audit trail names them. */
export const subjectTarget = (who: Subject): string => ('waId' in who ? `phone:${who.waId}` : `whatsapp-user:${who.userId}`);
