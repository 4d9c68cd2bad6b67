import { describeEventStoreConformance } from '@relaybus/core/testing';
import { memoryEventStore } from '../src/store/memory-event-store';

// A fresh store per test: its log is empty for every namespace, as the suite requires.
describeEventStoreConformance('memory', () => memoryEventStore());
