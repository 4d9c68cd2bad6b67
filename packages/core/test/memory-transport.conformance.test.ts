import { describeTransportConformance } from '@relaybus/core/testing';
import { memoryTransport } from '../src/transport/memory-transport';

// In-process instances never share a backend: the suite runs every scenario on one instance per test.
describeTransportConformance('memory', () => memoryTransport());
