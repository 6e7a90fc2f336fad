// Entry of the document reader's worker thread. The sources are TypeScript: tsx compiles them on
// load here, as bin/wa-bridge.js does for the main thread.
import { register } from 'tsx/esm/api';

register();
await import('./document-text-worker.ts');
