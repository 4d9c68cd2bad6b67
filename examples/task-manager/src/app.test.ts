import { describeApi } from './api-suite';

// The embedded app: PGlite in memory, the memory transport, the demo data.
describeApi('PGlite', async () => ({ kind: 'pglite', dataDir: undefined }));
