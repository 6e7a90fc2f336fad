import { maxTemplateParameters, type ApprovedTemplate } from '../core/templates.js';

const maxLabelLength = 60;
const namePattern = /^[a-z0-9_]{1,512}$/;
const languagePattern = /^[A-Za-z_]{2,15}$/;

export const templateEntryExample = 'appointment_reminder:en_GB or hearing_reminder:en_GB:Client name|Hearing date';

/**
 * One entry of WA_BRIDGE_TEMPLATES: `name:language`, or `name:language:Label 1|Label 2` when the
 * template's body has variables ({{1}}, {{2}}, … in that order); or why it is not one, written for
 * the problem line. The list is split at commas and the labels at |, so a label can hold neither;
 * a : in a label is refused here.
 */
export function parseTemplateEntry(entry: string): ApprovedTemplate | { error: string } {
  const [name = '', language = '', ...rest] = entry.split(':');
  const shown = JSON.stringify(entry.length > 60 ? `${entry.slice(0, 59)}…` : entry);
  if (!namePattern.test(name) || !languagePattern.test(language)) {
    return { error: `expected name:language pairs such as ${templateEntryExample}, got ${shown}` };
  }
  if (rest.length === 0) return { name, language, parameterLabels: [] };
  if (rest.length > 1) return { error: `a parameter label may not contain ":", in ${shown}` };
  const labels = rest[0]!.split('|').map((label) => label.trim());
  if (labels.length > maxTemplateParameters) {
    return { error: `${name}:${language} names ${labels.length} parameters; a template takes at most ${maxTemplateParameters}` };
  }
  for (const [index, label] of labels.entries()) {
    if (label === '') return { error: `parameter ${index + 1} of ${name}:${language} has no label (labels are separated by |), in ${shown}` };
    if (label.length > maxLabelLength) return { error: `the label of parameter ${index + 1} of ${name}:${language} is longer than ${maxLabelLength} characters` };
  }
  return { name, language, parameterLabels: labels };
}
