import type { IncomingMessage, ServerResponse } from 'node:http';
import { RelaybusError } from '@relaybus/core';
import { ZodError } from 'zod';
import { ConflictError, NotFoundError, StaleVersionError } from '../domain/errors';

/** An error answered with its status and a JSON body `{ code, error, ...details }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const MAX_BODY_BYTES = 256 * 1024;

/** Reads a JSON body of at most 256 KiB; a malformed one is a 400 naming the problem. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new HttpError(413, 'BODY_TOO_LARGE', `the body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'MALFORMED_JSON', `the body is not JSON: ${(error as Error).message}`);
  }
}

export function reply(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (status === 204) {
    res.writeHead(204, headers).end();
    return;
  }
  if (typeof body === 'string') {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(body);
    return;
  }
  res
    .writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
    .end(JSON.stringify(body));
}

/** The answer to a failed request: every issue of an invalid body, 404, 409, 412; anything else is a 500. */
export function errorResponse(error: unknown): { status: number; body: Record<string, unknown> } {
  if (error instanceof ZodError) {
    const issues = error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
    return {
      status: 400,
      body: {
        code: 'VALIDATION_FAILED',
        error: issues.map((issue) => `${issue.path || '(body)'}: ${issue.message}`).join('; '),
        issues,
      },
    };
  }
  if (error instanceof HttpError) {
    return { status: error.status, body: { code: error.code, error: error.message, ...error.details } };
  }
  if (error instanceof NotFoundError)
    return { status: 404, body: { code: 'NOT_FOUND', error: error.message } };
  if (error instanceof StaleVersionError) {
    return {
      status: 412,
      body: { code: 'STALE_VERSION', error: error.message, expected: error.expected, current: error.current },
    };
  }
  if (error instanceof ConflictError) {
    return { status: 409, body: { code: 'CONFLICT', error: error.message, ...error.details } };
  }
  if (RelaybusError.is(error, 'VALIDATION_FAILED')) {
    return { status: 400, body: { code: error.code, error: error.message } };
  }
  return { status: 500, body: { code: 'INTERNAL', error: 'internal error; see the server log' } };
}
