import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { QueryFailedError } from 'typeorm';
import { AppError, type ErrorCode } from './app-error.js';
import { isDependencyUnavailable } from './dependency-errors.js';

/**
 * The single place where errors become HTTP responses, always in the contract's body:
 * `{ error: { code, message, details? } }`. Never leaks stack traces, SQL or secrets.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const error = toAppError(exception);
    // `err` goes through safeError (safe-log.ts): no SQL, parameters or quoted values reach the log.
    if (error.code === 'SERVICE_UNAVAILABLE') this.logger.warn({ err: exception }, 'request failed: dependency unavailable');
    else if (error.status >= 500) this.logger.error({ err: exception }, 'request failed');
    if (error.code === 'RATE_LIMITED' && typeof error.details?.retryAfterSeconds === 'number') {
      res.setHeader('Retry-After', String(error.details.retryAfterSeconds));
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(error.status).json(error.toBody());
  }
}

/** Maps anything thrown to the AppError the client sees. Also used for body-parser errors (main.ts). */
export function toAppError(exception: unknown): AppError {
  if (exception instanceof AppError) return exception;
  if (exception instanceof HttpException) return fromHttpException(exception);
  const bodyParserError = fromBodyParserError(exception);
  if (bodyParserError) return bodyParserError;
  // Before the query-error mapping: a terminated connection also arrives as a QueryFailedError.
  if (isDependencyUnavailable(exception)) {
    return new AppError('SERVICE_UNAVAILABLE', 'A dependency is unavailable; nothing was changed. Try again shortly');
  }
  if (exception instanceof QueryFailedError) return fromQueryError(exception);
  return new AppError('INTERNAL_ERROR', 'Unexpected error');
}

function fromHttpException(e: HttpException): AppError {
  const status = e.getStatus();
  const response = e.getResponse();
  const byStatus: Record<number, ErrorCode> = {
    400: 'VALIDATION_FAILED', 401: 'UNAUTHORIZED', 403: 'UNAUTHORIZED', 404: 'NOT_FOUND', 405: 'METHOD_NOT_ALLOWED',
    409: 'CONFLICT', 413: 'PAYLOAD_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE', 429: 'RATE_LIMITED', 503: 'SERVICE_UNAVAILABLE',
  };
  const code = byStatus[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'VALIDATION_FAILED');
  if (code === 'NOT_FOUND') return new AppError('NOT_FOUND', 'Resource not found');
  const message = typeof response === 'object' && response && 'message' in response ? (response as { message: unknown }).message : e.message;
  if (Array.isArray(message)) {
    return AppError.validation(message.map((m) => ({ field: String(m).split(' ')[0] ?? '', message: String(m) })));
  }
  return new AppError(code, typeof message === 'string' ? message : e.message);
}

/** body-parser / raw-body errors carry `type` and `status`. */
function fromBodyParserError(e: unknown): AppError | undefined {
  if (!e || typeof e !== 'object' || !('type' in e)) return undefined;
  const { type } = e as { type?: string };
  switch (type) {
    case 'entity.parse.failed':
      return AppError.validation([{ field: 'body', message: 'Malformed JSON' }], 'Malformed JSON body');
    case 'entity.too.large':
      return new AppError('PAYLOAD_TOO_LARGE', 'Request body is larger than the configured limit');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported body encoding');
    case 'request.aborted':
    case 'stream.encoding.set':
    case 'request.size.invalid':
      return AppError.validation([{ field: 'body', message: 'Invalid request body' }]);
    default:
      return undefined;
  }
}

/** Constraint violations that slip past validation still answer 4xx, named by constraint. */
function fromQueryError(e: QueryFailedError): AppError {
  const pg = e.driverError as { code?: string; constraint?: string };
  switch (pg.code) {
    case '23505':
      return new AppError('CONFLICT', 'The resource already exists', { constraint: pg.constraint });
    case '23503':
      return AppError.validation([{ field: pg.constraint ?? 'reference', message: 'Referenced resource does not exist' }]);
    case '22P02':
    case '22003':
    case '22001':
    case '23514':
      return AppError.validation([{ field: pg.constraint ?? 'value', message: 'Value out of range or malformed' }]);
    default:
      return new AppError('INTERNAL_ERROR', 'Unexpected error');
  }
}
