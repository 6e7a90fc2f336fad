import { ApiError } from '@wa-bridge/shared/api/client';

/** What a failed form submission says: one message per form field, and whatever fits no field. */
export interface FormProblem {
  fields: Record<string, string>;
  general: string | null;
  /** True for a 403: the user's role or place does not allow this, however the form is filled. */
  forbidden: boolean;
}

/**
 * Spreads an API problem document over a form's fields. `fieldOf` maps a problem path
 * ("members.1", "reference") or, for problems without paths, the problem code ("reference_taken")
 * to the form field it belongs to; anything unmapped is shown once, above the buttons. `whatAt`
 * names the value a path points at ("members.1" -> the second address typed), so a message about
 * one entry of a list says which.
 */
export function toFormProblem(error: unknown, fieldOf: (pathOrCode: string) => string | null, whatAt: (path: string) => string | null = () => null): FormProblem {
  if (!(error instanceof ApiError)) return { fields: {}, general: error instanceof Error ? error.message : String(error), forbidden: false };
  const fields: Record<string, string> = {};
  const leftOver: string[] = [];
  for (const issue of error.problem.errors ?? []) {
    const field = fieldOf(issue.path);
    const what = whatAt(issue.path);
    const message = what ? `${what}: ${issue.message}` : issue.message;
    if (field) fields[field] = fields[field] ? `${fields[field]} ${message}` : message;
    else leftOver.push(`${issue.path}: ${issue.message}`);
  }
  const byCode = error.problem.errors?.length ? null : fieldOf(error.code);
  if (byCode) fields[byCode] = error.problem.detail;
  const general = byCode ? null : Object.keys(fields).length > 0 && leftOver.length === 0 ? null : [error.problem.detail, ...leftOver].join(' ');
  return { fields, general, forbidden: error.status === 403 };
}
