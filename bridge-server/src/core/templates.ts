import { BadInputError } from './errors.js';

/** An approved WhatsApp template the bridge may send (WA_BRIDGE_TEMPLATES). */
export interface ApprovedTemplate {
  name: string;
  language: string;
  /** What each body variable ({{1}}, {{2}}, …) holds, in order; empty when the body has none. */
  parameterLabels: string[];
}

/** The most body variables a template may be given, here and in the reply API. */
export const maxTemplateParameters = 20;

/** How messages name a template: `hearing_reminder (en_GB)`. */
export const templateTitle = (template: { name: string; language: string }): string => `${template.name} (${template.language})`;

/**
 * Refuses a template reply WhatsApp would refuse, before anything is stored: a template that is
 * not one of the approved ones (name and language), or parameters that do not fill its variables
 * one for one, each with some text.
 */
export function checkTemplateReply(approved: readonly ApprovedTemplate[], requested: { name: string; language: string; parameters: string[] }): void {
  const template = approved.find((t) => t.name === requested.name && t.language === requested.language);
  if (!template) {
    const offer =
      approved.length > 0
        ? `The approved templates are: ${approved.map(templateTitle).join(', ')}.`
        : 'No approved templates are configured (WA_BRIDGE_TEMPLATES).';
    throw new BadInputError('unknown_template', `${templateTitle(requested)} is not an approved template of this bridge, so WhatsApp would refuse it. ${offer}`, [
      { path: 'template.name', message: 'not an approved template' },
    ]);
  }
  const labels = template.parameterLabels;
  const expected = labels.length === 0 ? 'takes no parameters' : `takes ${labels.length} parameter${labels.length === 1 ? '' : 's'}, in this order: ${labels.join(', ')}`;
  if (requested.parameters.length !== labels.length) {
    throw new BadInputError('template_parameters', `${templateTitle(template)} ${expected}; ${requested.parameters.length} ${requested.parameters.length === 1 ? 'was' : 'were'} given.`, [
      { path: 'template.parameters', message: `expected ${labels.length}, got ${requested.parameters.length}` },
    ]);
  }
  const empty = labels.flatMap((label, index) => (requested.parameters[index]!.trim() === '' ? [{ label, index }] : []));
  if (empty.length > 0) {
    throw new BadInputError(
      'template_parameters',
      `${templateTitle(template)} ${expected}. Every parameter needs some text; empty: ${empty.map((e) => e.label).join(', ')}.`,
      empty.map((e) => ({ path: `template.parameters.${e.index}`, message: `${e.label}: empty` })),
    );
  }
}
