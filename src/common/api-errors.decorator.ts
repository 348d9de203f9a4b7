import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';
import { ERROR_STATUS, type ErrorBody, type ErrorCode } from './app-error.js';

class ErrorObject {
  @ApiProperty({ enum: Object.keys(ERROR_STATUS), example: 'VALIDATION_FAILED' }) code: ErrorCode;
  @ApiProperty({ example: 'The request is not valid', description: 'For a person; never a stack trace, SQL or secret' }) message: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Machine-readable specifics; see each code' })
  details?: Record<string, unknown>;
}

export class ErrorBodyView {
  @ApiProperty({ type: ErrorObject }) error: ErrorObject;
}

/** When each code is answered (api-contract.md), and an example body of it. */
const ERRORS: Record<Exclude<ErrorCode, 'INTERNAL_ERROR' | 'METHOD_NOT_ALLOWED' | 'HEADERS_TOO_LARGE'>, { when: string; example: ErrorBody['error'] }> = {
  VALIDATION_FAILED: {
    when: 'malformed JSON, wrong types, unknown fields, bad phone numbers; `details.fields` lists each problem',
    example: { code: 'VALIDATION_FAILED', message: 'The request is not valid', details: { fields: [{ field: 'name', message: 'name must be a string' }] } },
  },
  UNAUTHORIZED: { when: 'missing or wrong API key, admin key or webhook secret', example: { code: 'UNAUTHORIZED', message: 'Invalid API key' } },
  INSUFFICIENT_CREDITS: {
    when: 'the balance is below what the campaign needs; `details.required`, `details.available`',
    example: { code: 'INSUFFICIENT_CREDITS', message: 'Not enough credits for this campaign', details: { required: 20000, available: 12500 } },
  },
  INACTIVE_SUBSCRIPTION: {
    when: "the tenant's subscription is not active",
    example: { code: 'INACTIVE_SUBSCRIPTION', message: 'The subscription of this account is not active' },
  },
  NOT_FOUND: { when: 'no such resource for this tenant (another tenant\'s resource answers the same)', example: { code: 'NOT_FOUND', message: 'Campaign not found' } },
  CONFLICT: {
    when: 'the resource already exists; `details.constraint`',
    example: { code: 'CONFLICT', message: 'The resource already exists', details: { constraint: 'uq_tenants_name' } },
  },
  INVALID_CAMPAIGN_STATE: {
    when: "the action is not allowed in the campaign's status; `details.status`",
    example: { code: 'INVALID_CAMPAIGN_STATE', message: 'Cannot update a campaign that is sending', details: { status: 'sending' } },
  },
  PAYLOAD_TOO_LARGE: { when: 'the body is over the configured limit', example: { code: 'PAYLOAD_TOO_LARGE', message: 'Request body is larger than the configured limit' } },
  UNSUPPORTED_MEDIA_TYPE: {
    when: 'a body type the operation does not take',
    example: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send recipients as application/json or text/csv' },
  },
  NO_RECIPIENTS: { when: 'enqueue of a campaign with no sendable recipient', example: { code: 'NO_RECIPIENTS', message: 'The campaign has no recipient that can be sent to' } },
  RATE_LIMITED: {
    when: "the API's own request limit (API_RATE_LIMIT per API_RATE_LIMIT_WINDOW_MS per key); wait `Retry-After` seconds",
    example: { code: 'RATE_LIMITED', message: 'Too many requests; try again in 7 s', details: { retryAfterSeconds: 7, limit: 600, windowSeconds: 10 } },
  },
  SERVICE_UNAVAILABLE: {
    when: 'a dependency (PostgreSQL, Redis) is down; nothing was changed, try again',
    example: { code: 'SERVICE_UNAVAILABLE', message: 'A dependency is unavailable; nothing was changed. Try again shortly' },
  },
};

export type DocumentedError = keyof typeof ERRORS;

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds until the limit resets', schema: { type: 'integer', example: 7 } },
};

/**
 * Documents the contract's error answers of an operation (or every operation of a controller): one
 * response per HTTP status, with an example body for each code that status carries.
 */
export function ApiErrors(...codes: DocumentedError[]): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, DocumentedError[]>();
  for (const code of codes) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  return applyDecorators(
    ...[...byStatus].map(([status, group]) =>
      ApiResponse({
        status,
        description: group.map((code) => `\`${code}\`: ${ERRORS[code].when}`).join('. '),
        type: ErrorBodyView,
        examples: Object.fromEntries(group.map((code) => [code, { summary: code, value: { error: ERRORS[code].example } }])),
        ...(status === 429 ? { headers: RETRY_AFTER } : {}),
      }),
    ),
  );
}
