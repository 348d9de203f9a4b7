import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Logger } from 'nestjs-pino';
import type { AppConfig } from './config/app.config.js';
import { AllExceptionsFilter, toAppError } from './common/all-exceptions.filter.js';
import { AppError } from './common/app-error.js';
import { createValidationPipe } from './common/validation.js';
import { createOpenApiDocument, setupSwaggerUi } from './openapi/openapi-document.js';

/**
 * Everything HTTP-specific, shared by main.ts and the e2e tests: JSON body parsing with a size limit
 * (CSV uploads are streamed by their controller, never buffered), validation, the error filter and
 * Swagger UI at /api/docs.
 */
export function configureHttpApp(app: NestExpressApplication, config: AppConfig): void {
  app.useLogger(app.get(Logger));
  app.set('trust proxy', true);
  app.disable('x-powered-by');
  const json = express.json({ limit: config.http.bodyLimitBytes, type: ['application/json', 'application/*+json'] });
  app.use((req: Request, res: Response, next: NextFunction) =>
    json(req, res, (err?: unknown) => {
      if (!err) return next();
      const error = toAppError(err);
      res.status(error.status).json(error.toBody());
    }),
  );
  answerClientErrorsWithContractBody(app);
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new AllExceptionsFilter());

  setupSwaggerUi(app, createOpenApiDocument(app));
}

/**
 * Requests Node's HTTP parser refuses before Express sees them (oversized headers, malformed request
 * lines) get the contract's error body too, instead of Node's bare status line.
 */
function answerClientErrorsWithContractBody(app: NestExpressApplication): void {
  const server = app.getHttpServer() as import('node:http').Server;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: import('node:stream').Duplex) => {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const error = tooLarge
      ? new AppError('HEADERS_TOO_LARGE', 'Request line or headers are too large')
      : AppError.validation([{ field: 'request', message: 'Malformed HTTP request' }], 'Malformed HTTP request');
    const body = JSON.stringify(error.toBody());
    socket.end(
      `HTTP/1.1 ${error.status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
