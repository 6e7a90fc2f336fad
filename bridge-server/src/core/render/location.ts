import type { ContentOf, RenderedContent } from './content.js';
import { escapeHtml, labelled, link, oneLine, paragraph } from './html.js';

/** Google Maps at a point: the map link of the mirrored mail and of the conversation view. */
export function googleMapsUrl(latitude: number, longitude: number): string {
  return `https://www.google.com/maps?q=${latitude},${longitude}`;
}

/**
 * A shared location: its name and address as sent, a map link anyone can open, and the RFC 5870
 * `geo:` URI that phones and desktop map apps understand. A URL the client attached is shown as
 * text only (see html.ts `link`).
 */
export function renderLocation(content: ContentOf<'location'>): RenderedContent {
  const point = `${content.latitude},${content.longitude}`;
  const mapUrl = googleMapsUrl(content.latitude, content.longitude);
  const geoUri = `geo:${point}`;
  const details: Array<[string, string | undefined]> = [
    ['Name:', content.name],
    ['Address:', content.address],
    ['Link sent:', content.url],
  ];
  const present = details.filter((d): d is [string, string] => d[1] !== undefined && d[1] !== '');
  const text = ['[Location]', ...present.map(([label, value]) => `${label} ${oneLine(value, 2048)}`), `Map: ${mapUrl}`, `Coordinates: ${geoUri}`];
  const html = [
    paragraph('<strong>Location</strong>'),
    ...present.map(([label, value]) => labelled(label, value)),
    paragraph(`<strong>Map:</strong> ${link(mapUrl, 'Open in Google Maps')} (${escapeHtml(point)})`),
    paragraph(`<strong>Coordinates:</strong> ${link(geoUri, geoUri)}`),
  ];
  const title = present.find(([label]) => label !== 'Link sent:')?.[1] ?? point;
  return { summary: oneLine(`[Location] ${title}`), text: text.join('\n'), html: html.join('\n'), attachments: [] };
}
