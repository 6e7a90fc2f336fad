// Entry of a parse-export thread when the command runs from its TypeScript sources: tsx compiles
// them on load here. From the command's bundle, the thread starts from its own bundled entry.
import { register } from 'tsx/esm/api';

register();
await import('./pieces-worker.ts');
