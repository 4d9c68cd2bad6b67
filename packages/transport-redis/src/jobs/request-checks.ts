import { InvalidOptionError, JOB_PRIORITIES } from '@relaybus/core';
import type { ClaimRequest, JobFailure, LeaseRef } from '@relaybus/core/transport-kit';
import { jsonArg } from './job-codec';

// The arguments of the claim and lease scripts, checked at the boundary: the queue builds them, but a value the
// scripts would misread (a NaN lease, an unknown outcome) must fail here, loudly, rather than corrupt a queue.

const DEAD_REASONS: ReadonlySet<unknown> = new Set([
  'MAX_ATTEMPTS',
  'NON_RETRYABLE',
  'CRASH_LIMIT',
  'NO_HANDLER',
]);

function positiveInteger(value: unknown, where: string, option: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidOptionError(where, option, `must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function positiveMs(value: unknown, where: string, option: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(where, option, `must be a number of milliseconds > 0, got ${String(value)}`);
  }
  return Math.max(1, Math.round(value));
}

/**
 * The claim script's arguments after the base: worker, max, leaseTtlMs, groupConcurrency, rate max (0: none),
 * rate perMs, mode, then the four weights.
 *
 * @throws `InvalidOptionError` naming the field.
 */
export function checkClaim(request: ClaimRequest): Array<string | number> {
  const where = 'redisJobBackend.claim()';
  if (typeof request.worker !== 'string' || request.worker.length === 0) {
    throw new InvalidOptionError(where, 'worker', 'must be a non-empty string');
  }
  const { groupRate, priority } = request;
  let weights = [1, 1, 1, 1];
  if (priority?.mode === 'weighted') {
    weights = JOB_PRIORITIES.map((level) => {
      const weight = priority.weights?.[level];
      if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
        throw new InvalidOptionError(where, `priority.weights.${level}`, 'must be a number >= 0');
      }
      return weight;
    });
  } else if (priority?.mode !== 'strict') {
    throw new InvalidOptionError(
      where,
      'priority',
      "must be { mode: 'strict' } or { mode: 'weighted', weights }",
    );
  }
  return [
    request.worker,
    positiveInteger(request.max, where, 'max'),
    positiveMs(request.leaseTtlMs, where, 'leaseTtlMs'),
    positiveInteger(request.groupConcurrency, where, 'groupConcurrency'),
    groupRate === undefined ? 0 : positiveInteger(groupRate.max, where, 'groupRate.max'),
    groupRate === undefined ? 0 : positiveMs(groupRate.perMs, where, 'groupRate.perMs'),
    priority.mode,
    ...weights,
  ];
}

/**
 * A lease's id and token, the first arguments of every lease script.
 *
 * @throws `InvalidOptionError` when it is not a lease the backend handed out.
 */
export function checkLease(lease: LeaseRef, where: string): [string, string] {
  if (
    typeof lease !== 'object' ||
    lease === null ||
    typeof lease.id !== 'string' ||
    typeof lease.token !== 'string'
  ) {
    throw new InvalidOptionError(where, 'lease', 'must be { id, token } of a claimed job');
  }
  return [lease.id, lease.token];
}

/**
 * The fail script's arguments after id and token: kind, error JSON, outcome, then runAt or reason.
 *
 * @throws `InvalidOptionError` naming the field.
 */
export function checkFailure(failure: JobFailure): Array<string | number> {
  const where = 'redisJobBackend.fail()';
  if (failure?.kind !== 'error' && failure?.kind !== 'timeout') {
    throw new InvalidOptionError(where, 'failure.kind', "must be 'error' or 'timeout'");
  }
  const error = jsonArg(failure.error ?? { name: 'Error', message: 'unknown' }, where, 'failure.error').slice(
    1,
  );
  const { outcome } = failure;
  if (outcome?.kind === 'retry') {
    if (typeof outcome.runAt !== 'number' || !Number.isFinite(outcome.runAt)) {
      throw new InvalidOptionError(where, 'failure.outcome.runAt', 'must be a finite epoch ms');
    }
    return [failure.kind, error, 'retry', Math.round(outcome.runAt)];
  }
  if (outcome?.kind === 'dead') {
    if (!DEAD_REASONS.has(outcome.reason)) {
      throw new InvalidOptionError(
        where,
        'failure.outcome.reason',
        `is not a dead job reason (${String(outcome.reason)})`,
      );
    }
    return [failure.kind, error, 'dead', outcome.reason];
  }
  if (outcome?.kind === 'drop') return [failure.kind, error, 'drop', ''];
  throw new InvalidOptionError(
    where,
    'failure.outcome',
    "must be { kind: 'retry', runAt }, { kind: 'dead', reason } or { kind: 'drop' }",
  );
}

/**
 * A lease length in whole milliseconds.
 *
 * @throws `InvalidOptionError` naming `where` unless it is a number > 0.
 */
export function checkTtl(value: number, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(
      where,
      'leaseTtlMs',
      `must be a number of milliseconds > 0, got ${String(value)}`,
    );
  }
  return Math.max(1, Math.round(value));
}

/**
 * A job id or schedule id argument.
 *
 * @throws `InvalidOptionError` naming the method and option unless it is a non-empty string.
 */
export function checkId(value: unknown, method: string, option = 'id'): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidOptionError(`redisJobBackend.${method}()`, option, 'must be a non-empty string');
  }
  return value;
}
