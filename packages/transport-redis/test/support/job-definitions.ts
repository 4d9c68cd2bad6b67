import { defineJob } from '@relaybus/core';
import { z } from 'zod';

/** The job type of the job tests that run real queues (worker processes included). */
export const Task = defineJob('test:task', z.object({ label: z.string() }));
