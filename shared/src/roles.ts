import { z } from 'zod';

/**
 * The Entra ID app roles the bridge reads from the token's `roles` claim. Defined here, outside
 * api/, so the server's domain code can use them too.
 */
export const roles = ['Solicitor', 'CaseHandler', 'ComplianceOfficer', 'Admin'] as const;
export const roleSchema = z.enum(roles);
export type Role = z.infer<typeof roleSchema>;
