import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { uuidv7 } from '@relaybus/core';
import type { Pool, PoolClient } from 'pg';
import { z } from 'zod';
import { NotionWebhookReceived } from '../domain/events';
import type { AppBus } from '../domain/task-service';
import { type SchedulingQueue, SynchronizePage } from '../jobs/scheduling';
import { HttpError } from './http';

/** How far a webhook's timestamp may be from now. */
export const NOTION_WINDOW_S = 300;

export const NotionPage = z.object({
  pageId: z.string().min(1),
  taskId: z.string().min(1).nullable().default(null),
  properties: z.record(z.string(), z.unknown()),
});

/** The signature a sender puts in `x-notion-signature`: `v1=` and the hex HMAC-SHA256 of `<timestamp>.<body>`. */
export function signNotion(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

const unauthorized = (why: string) => new HttpError(401, 'BAD_SIGNATURE', `webhook refused: ${why}`);

async function readRaw(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 256 * 1024) throw new HttpError(413, 'BODY_TOO_LARGE', 'the webhook body is over 256 KiB');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `POST /api/v1/webhooks/notion`: verifies the signature over timestamp and body, the timestamp window and that the
 * body was not delivered before; then, in one transaction, records the delivery, publishes `webhook.notion_received`
 * and enqueues `tasks:synchronize_page`. A refused call publishes nothing.
 */
export async function receiveNotionWebhook(
  req: IncomingMessage,
  deps: { pool: Pool; bus: AppBus; jobs: SchedulingQueue; secret: string; nowS?: number },
): Promise<{ deliveryId: string }> {
  const signature = req.headers['x-notion-signature'];
  const timestamp = req.headers['x-notion-timestamp'];
  if (typeof signature !== 'string' || typeof timestamp !== 'string') {
    throw unauthorized('x-notion-signature and x-notion-timestamp are required');
  }
  const body = await readRaw(req);
  const expected = Buffer.from(signNotion(deps.secret, timestamp, body));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw unauthorized('wrong signature');
  const sentAt = Number(timestamp);
  const now = deps.nowS ?? Math.floor(Date.now() / 1000);
  if (!Number.isSafeInteger(sentAt) || Math.abs(now - sentAt) > NOTION_WINDOW_S) {
    throw unauthorized(`timestamp outside the ${NOTION_WINDOW_S} s window`);
  }
  let page: z.infer<typeof NotionPage>;
  try {
    page = NotionPage.parse(JSON.parse(body));
  } catch (error) {
    if (error instanceof z.ZodError) throw error;
    throw new HttpError(400, 'MALFORMED_JSON', 'the webhook body is not JSON');
  }
  const digest = createHash('sha256').update(`${timestamp}.${body}`).digest('hex');
  const deliveryId = uuidv7();
  const client: PoolClient = await deps.pool.connect();
  try {
    await client.query('BEGIN');
    const inserted = await client.query(
      'INSERT INTO webhook_deliveries (digest, delivery_id) VALUES ($1, $2) ON CONFLICT (digest) DO NOTHING',
      [digest, deliveryId],
    );
    if (inserted.rowCount === 0) throw unauthorized('this delivery was received before (replay)');
    await deps.bus.publish(
      NotionWebhookReceived,
      { deliveryId, pageId: page.pageId, taskId: page.taskId, properties: page.properties },
      { transaction: client },
    );
    await deps.jobs.enqueue(SynchronizePage, { deliveryId, ...page }, { transaction: client });
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  return { deliveryId };
}
