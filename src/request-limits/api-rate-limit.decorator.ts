import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiErrors } from '../common/api-errors.decorator.js';

export const API_RATE_LIMIT = Symbol('api-rate-limit');

/** Which credential an operation is counted by: the one it authenticates with. */
export type LimitedBy = 'tenant' | 'admin';

/**
 * Puts an operation (or every operation of a controller) under the API's request limit, counted per
 * `by` credential (per client address when the request has none), and documents its 429 answer. One
 * decorator for both, so the OpenAPI document lists 429 exactly where the limit applies.
 */
export function ApiRateLimit(by: LimitedBy): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(API_RATE_LIMIT, by), ApiErrors('RATE_LIMITED'));
}
