// Entry of an import's event thread when the command runs from its TypeScript sources: tsx
// compiles them on load here. From the command's bundle, the thread starts from its own entry.
import { register } from 'tsx/esm/api';

register();
await import('./import-events-worker.ts');
