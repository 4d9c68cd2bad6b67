// A minimal process for the harness's own test: proves that workspace sources resolve (it imports
// @relaybus/core from src through the @relaybus/source condition) and echoes IPC messages until killed.
import { uuidv7 } from '@relaybus/core';

process.on('message', (message: unknown) => process.send?.({ echo: message }));
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: uuidv7() });
