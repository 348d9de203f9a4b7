import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';
import { ERROR_STATUS, type ErrorCode } from './app-error.js';

class ErrorObject {
  @ApiProperty({ enum: Object.keys(ERROR_STATUS), example: 'VALIDATION_FAILED' }) code: ErrorCode;
  @ApiProperty({ example: 'The request is not valid' }) message: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true }) details?: Record<string, unknown>;
}

export class ErrorBodyView {
  @ApiProperty({ type: ErrorObject }) error: ErrorObject;
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'VALIDATION_FAILED: malformed JSON, wrong types, unknown fields (details.fields)',
  401: 'UNAUTHORIZED: missing or wrong key',
  402: 'INSUFFICIENT_CREDITS (details.required, details.available)',
  403: 'INACTIVE_SUBSCRIPTION',
  404: 'NOT_FOUND',
  409: 'INVALID_CAMPAIGN_STATE (details.status)',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'NO_RECIPIENTS',
  503: 'SERVICE_UNAVAILABLE',
};

/** Documents the contract's error body for the given statuses in the OpenAPI document. */
export function ApiErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) => ApiResponse({ status, description: DESCRIPTIONS[status], type: ErrorBodyView })),
  );
}
