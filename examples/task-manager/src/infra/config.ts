import { z } from 'zod';
import { ROLES } from '../app';
import { type TransportConfig, transportConfigFromEnv } from './transport';

/** The environment the task manager reads, validated at start-up as one schema. */
const Environment = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional(),
  DATA_DIR: z.string().min(1).default('data/pg'),
  ROLES: z
    .string()
    .default(ROLES.join(','))
    .transform((value) =>
      value
        .split(',')
        .map((role) => role.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(ROLES)).min(1, 'must name at least one role')),
  AUTH_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  NOTION_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://')
    .optional(),
  MAIL_FROM: z.string().min(3).default('task-manager <tasks@localhost>'),
  LOG_FORMAT: z.enum(['text', 'json']).default('text'),
});

export type Config = z.infer<typeof Environment> & { readonly transport: TransportConfig };

/** A start-up configuration that does not hold: every bad variable, with what is wrong with it. */
export class ConfigError extends Error {
  constructor(readonly problems: ReadonlyArray<{ readonly variable: string; readonly message: string }>) {
    super(
      `the environment is not valid:\n${problems.map((problem) => `  ${problem.variable}: ${problem.message}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/** Reads and validates the whole environment; throws {@link ConfigError} naming every bad variable at once. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: Array<{ variable: string; message: string }> = [];
  // An empty variable counts as unset, as shells make it easy to export one.
  const given = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = Environment.safeParse(given);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push({ variable: String(issue.path[0] ?? '(environment)'), message: issue.message });
    }
  }
  let transport: TransportConfig | undefined;
  try {
    transport = transportConfigFromEnv(given);
  } catch (error) {
    const option = (error as { option?: string }).option;
    problems.push({ variable: option ?? 'RELAYBUS_TRANSPORT', message: (error as Error).message });
  }
  if (problems.length > 0 || !parsed.success || transport === undefined) throw new ConfigError(problems);
  return { ...parsed.data, transport };
}
