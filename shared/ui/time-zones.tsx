import { Combobox, Option } from '@fluentui/react-components';
import { useState } from 'react';

/** Time zones for the front ends' zone pickers: the browser's own, and every zone it knows. */

export const browserTimeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** Every IANA zone the browser knows (UTC among them), for the zone picker. */
export const allZones: string[] = (() => {
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return zones.includes('UTC') ? zones : [...zones, 'UTC'];
})();

/** The zones whose name contains `text` (any case): the picker's list while typing; all of them otherwise. */
export function zonesMatching(text: string): string[] {
  const wanted = text.trim().toLowerCase();
  return wanted === '' ? allZones : allZones.filter((zone) => zone.toLowerCase().includes(wanted));
}

export function isTimeZone(text: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: text });
    return text.includes('/') || text === 'UTC';
  } catch {
    return false;
  }
}

/** The zone's name as the list spells it (typing "europe/paris" picks Europe/Paris). */
export function canonicalZone(text: string): string {
  return allZones.find((zone) => zone.toLowerCase() === text.toLowerCase()) ?? text;
}

/**
 * The instant a calendar day (yyyy-mm-dd) starts in `timeZone`, as ISO 8601 with its offset: the
 * zone's offset is read from Intl at the guessed instant and once more at the result, so a day
 * that starts just after a daylight-saving change lands on the right side of it.
 */
export function startOfDayIn(day: string, timeZone: string): string {
  const [year, month, date] = day.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(year, month - 1, date);
  let instant = wall - offsetAt(wall, timeZone);
  instant = wall - offsetAt(instant, timeZone);
  return new Date(instant).toISOString();
}

/** The zone's offset from UTC at `instant`, in milliseconds (east positive). */
function offsetAt(instant: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(new Date(instant));
  const part = (type: string) => Number(parts.find((item) => item.type === type)?.value);
  const asUtc = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/** What a zone picker holds: the text typed, whether it names a zone, and the zone (the browser's until it does). */
export interface ZonePickerState {
  text: string;
  setText(text: string): void;
  valid: boolean;
  timeZone: string;
}

/** A zone picker's state, starting at the browser's zone. */
export function useZonePicker(): ZonePickerState {
  const [text, setText] = useState(browserTimeZone);
  const valid = isTimeZone(text);
  return { text, setText, valid, timeZone: valid ? canonicalZone(text) : browserTimeZone };
}

export const zonePickerError = 'Choose a time zone from the list, such as Europe/London.';

/** A combobox of every zone, narrowed to those matching what is typed; put it in a Field for its label. */
export function ZonePicker({ picker }: { picker: ZonePickerState }) {
  return (
    <Combobox
      freeform
      value={picker.text}
      selectedOptions={picker.valid ? [picker.timeZone] : []}
      onChange={(event) => picker.setText(event.target.value)}
      onOptionSelect={(_event, data) => {
        if (data.optionValue) picker.setText(data.optionValue);
      }}
    >
      {zonesMatching(picker.valid ? '' : picker.text).map((zone) => (
        <Option key={zone} value={zone}>
          {zone}
        </Option>
      ))}
    </Combobox>
  );
}
