import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { ErrorBodyView } from '../common/api-errors.decorator.js';

/**
 * The OpenAPI document: built from the controllers' decorators, plus the pages Nest does not route itself.
 * It depends on no configuration, so the document a deployment serves at /api/docs-json is the one
 * committed in client/openapi.json (`npm run client:generate`; test/api-document.e2e-spec.ts compares them).
 */
export const DOCS_PATH = 'api/docs';
export const DOCUMENT_PATH = 'api/docs-json';

const DESCRIPTION = `Tenants, campaigns and exactly-once bulk SMS sending through Mitto.

**Authentication.** Tenant calls: \`Authorization: Bearer <tenant API key>\` (created by an admin, shown once).
Admin calls: \`X-Admin-Api-Key: <ADMIN_API_KEY>\`. Mitto's delivery reports: \`X-Webhook-Secret\`.
In this page use **Authorize** and paste a key.

**Errors** always have the body \`{ "error": { "code", "message", "details"? } }\`; each operation lists its codes.

**Request limit.** Every tenant and admin operation is limited to \`API_RATE_LIMIT\` requests per
\`API_RATE_LIMIT_WINDOW_MS\` per key (per client address without a key), shared by all API replicas. Above it:
429 \`RATE_LIMITED\` with \`Retry-After\`. Every limited answer carries \`RateLimit-Limit\`, \`RateLimit-Remaining\`
and \`RateLimit-Reset\`. The webhook, health, metrics and documentation are not limited.

**Typed client.** \`client/\` in the repository holds this document and TypeScript types generated from it
(openapi-typescript), for use with openapi-fetch (README, "The dashboard's client").`;

export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Bulk SMS campaigns API')
    .setDescription(DESCRIPTION)
    .setVersion('1.0')
    .addServer('/', 'The deployment serving this document')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'sk_…', description: 'Tenant API key' }, 'tenant')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Admin-Api-Key', description: 'ADMIN_API_KEY' }, 'admin')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Webhook-Secret', description: 'MITTO_WEBHOOK_SECRET (Mitto sends it)' }, 'webhook')
    .addTag('campaigns', 'Build, send and follow campaigns (tenant key)')
    .addTag('suppressions', 'The tenant\'s opt-out list (tenant key)')
    .addTag('tenant', 'The calling tenant (tenant key)')
    .addTag('admin', 'Traffic accounts, tenants and credits (admin key)')
    .addTag('webhooks', 'Callbacks from Mitto (webhook secret)')
    .addTag('operations', 'Health, metrics, documentation and the queue dashboard')
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (controller, method) => `${lowerFirst(controller.replace(/Controller$/, ''))}${upperFirst(method)}`,
    extraModels: [ErrorBodyView],
  });
  // A private API: no public licence. Redocly's recommended rules want the licence stated.
  document.info.license = { name: 'Proprietary: all rights reserved' };
  Object.assign(document.paths, pagesOutsideNest());
  textBodiesAreText(document);
  return document;
}

/**
 * @ApiBody gives every media type of an operation the same schema and examples; a `text/*` body (the CSV
 * upload of recipients) is text, so it gets a string schema and the string examples, JSON the others.
 */
function textBodiesAreText(document: OpenAPIObject): void {
  for (const item of Object.values(document.paths)) {
    for (const op of Object.values(item) as Array<{ requestBody?: { content?: Record<string, MediaType> } }>) {
      const content = op?.requestBody?.content;
      if (!content) continue;
      for (const [type, media] of Object.entries(content)) {
        const text = type.startsWith('text/');
        if (!media.examples) continue;
        media.examples = Object.fromEntries(Object.entries(media.examples).filter(([, ex]) => (typeof ex.value === 'string') === text));
        if (text) media.schema = { type: 'string', description: 'Text with a header row; for CSV a `phone` column and one column per variable' };
      }
    }
  }
}

interface MediaType {
  schema?: Record<string, unknown>;
  examples?: Record<string, { summary?: string; value: unknown }>;
}

/** Swagger UI at /api/docs (the document at /api/docs-json). */
export function setupSwaggerUi(app: INestApplication, document: OpenAPIObject): void {
  SwaggerModule.setup(DOCS_PATH, app, document, {
    jsonDocumentUrl: DOCUMENT_PATH,
    customSiteTitle: 'Bulk SMS campaigns API',
    // No call to swagger.io's online validator: the CSP (http-app.ts) allows only this origin.
    swaggerOptions: { validatorUrl: null },
  });
}

const errorResponse = (description: string, code: string, message: string) => ({
  description,
  content: {
    'application/json': {
      schema: { $ref: `#/components/schemas/${ErrorBodyView.name}` },
      example: { error: { code, message } },
    },
  },
});

const html = (description: string, example: string) => ({ description, content: { 'text/html': { schema: { type: 'string' }, example } } });

/** Served by Express middleware (Swagger UI, bull-board), not by controllers; described here by hand. */
function pagesOutsideNest(): OpenAPIObject['paths'] {
  return {
    [`/${DOCS_PATH}`]: {
      get: {
        tags: ['operations'],
        operationId: 'docsPage',
        summary: 'This documentation',
        description: 'Swagger UI over this document. Public and not limited.',
        security: [],
        responses: { 200: html('The Swagger UI page', '<!DOCTYPE html><html lang="en">…</html>') },
      },
    },
    [`/${DOCUMENT_PATH}`]: {
      get: {
        tags: ['operations'],
        operationId: 'docsDocument',
        summary: 'The OpenAPI document',
        description: 'This document as JSON, the input of client generators (client/ holds the generated types).',
        security: [],
        responses: {
          200: {
            description: 'OpenAPI 3 document',
            content: { 'application/json': { schema: { type: 'object' }, example: { openapi: '3.0.0', info: { title: 'Bulk SMS campaigns API' }, paths: {} } } },
          },
        },
      },
    },
    '/admin/queues': {
      get: {
        tags: ['operations'],
        operationId: 'queueDashboard',
        summary: 'Queue dashboard',
        description:
          'The BullMQ dashboard (bull-board) of the batch and campaign-control queues: inspect, retry or remove jobs. Needs the admin key ' +
          '(header, or HTTP basic auth with the key as password so a browser can open it). Not limited.',
        security: [{ admin: [] }],
        responses: {
          200: html('The dashboard page', '<!DOCTYPE html><html lang="en" dir="ltr">…</html>'),
          401: errorResponse('`UNAUTHORIZED`: missing or wrong admin key', 'UNAUTHORIZED', 'Missing or invalid admin key (X-Admin-Api-Key or basic auth password)'),
        },
      },
    },
  };
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);
const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
