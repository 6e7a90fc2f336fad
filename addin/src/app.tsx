import { Body1 } from '@fluentui/react-components';
import type { HostInfo } from './host/office.js';

export function App({ host }: { host: HostInfo }) {
  return <Body1>{host.kind === 'outlook' ? 'Outlook' : 'Not in Outlook'}</Body1>;
}
