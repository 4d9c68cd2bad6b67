import { memoryJobBackend } from '@relaybus/core';
import { describeJobQueueConformance } from '@relaybus/core/testing';

// A fresh backend per instance: in-process backends never share jobs, so the suite plays every process on one
// backend per test and skips the tests that need two instances.
describeJobQueueConformance('memory', () => memoryJobBackend());
