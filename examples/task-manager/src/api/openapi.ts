import { z } from 'zod';
import { CreateTaskInput, UpdateTaskInput } from '../domain/task-service';

const LoginBody = z.object({ email: z.email(), password: z.string().min(1) });
const ErrorBody = z.object({ code: z.string(), error: z.string() });

const json = (schema: z.ZodType) => ({
  'application/json': { schema: z.toJSONSchema(schema, { io: 'input' }) },
});
const errors = {
  400: { description: 'Invalid input; `issues` lists every invalid field', content: json(ErrorBody) },
  401: { description: 'No valid token', content: json(ErrorBody) },
  404: { description: 'Not found, or not yours to see', content: json(ErrorBody) },
};
const bearer = [{ bearer: [] }];

/** The OpenAPI 3.1 document of the API, generated from the same zod schemas the handlers validate with. */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'task-manager', version: '0.1.0', description: 'The relaybus reference application.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths: {
      '/api/v1/auth/login': {
        post: {
          summary: 'Sign in',
          requestBody: { content: json(LoginBody) },
          responses: { 200: { description: 'A token' }, ...errors },
        },
      },
      '/api/v1/projects': {
        get: {
          summary: 'Your projects',
          security: bearer,
          responses: { 200: { description: 'Projects' }, 401: errors[401] },
        },
      },
      '/api/v1/projects/{projectId}/tasks': {
        get: {
          summary: 'A page of tasks',
          security: bearer,
          parameters: [
            { name: 'projectId', in: 'path', required: true, schema: { type: 'string' } },
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
            },
            { name: 'cursor', in: 'query', schema: { type: 'string' } },
          ],
          responses: { 200: { description: '`items` and the `next` cursor' }, ...errors },
        },
      },
      '/api/v1/tasks': {
        post: {
          summary: 'Create a task',
          security: bearer,
          requestBody: { content: json(CreateTaskInput) },
          responses: { 201: { description: 'The task, with its ETag' }, ...errors },
        },
      },
      '/api/v1/tasks/{taskId}': {
        get: {
          summary: 'A task',
          security: bearer,
          responses: { 200: { description: 'The task, with its ETag' }, ...errors },
        },
        patch: {
          summary: 'Edit a task',
          security: bearer,
          parameters: [
            {
              name: 'If-Match',
              in: 'header',
              required: true,
              schema: { type: 'string' },
              description: 'The ETag you edited',
            },
          ],
          requestBody: { content: json(UpdateTaskInput) },
          responses: {
            200: { description: 'The task' },
            ...errors,
            412: { description: 'The task changed since: reload it', content: json(ErrorBody) },
            428: { description: 'If-Match is missing', content: json(ErrorBody) },
          },
        },
        delete: {
          summary: 'Delete a task',
          security: bearer,
          responses: { 204: { description: 'Deleted' }, ...errors },
        },
      },
      '/api/v1/tasks/{taskId}/dependencies/{dependsOn}': {
        put: {
          summary: 'Make the task wait for another (finish-to-start)',
          security: bearer,
          responses: {
            200: { description: 'The task' },
            ...errors,
            409: { description: 'A cycle, named in `cycle`', content: json(ErrorBody) },
          },
        },
        delete: {
          summary: 'Remove a dependency',
          security: bearer,
          responses: { 200: { description: 'The task' }, ...errors },
        },
      },
      '/healthz': { get: { summary: 'The process is up', responses: { 200: { description: 'Up' } } } },
      '/readyz': {
        get: {
          summary: 'The store, the transport and the subscriptions are ready',
          responses: { 200: { description: 'Ready' }, 503: { description: 'Not ready' } },
        },
      },
    },
  };
}
