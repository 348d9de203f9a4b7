import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import type { AppConfig } from './config/app.config.js';
import { AllExceptionsFilter, toAppError } from './common/all-exceptions.filter.js';
import { AppError } from './common/app-error.js';
import { createValidationPipe } from './common/validation.js';
import { createOpenApiDocument, setupSwaggerUi } from './openapi/openapi-document.js';

/**
 * Everything HTTP-specific, shared by main.ts and the e2e tests: security headers, CORS for the dashboard,
 * keep-alive timeouts, JSON body parsing with a size limit (CSV uploads are streamed by their controller,
 * never buffered), validation, the error filter and Swagger UI at /api/docs.
 */
export function configureHttpApp(app: NestExpressApplication, config: AppConfig): void {
  app.useLogger(app.get(Logger));
  app.set('trust proxy', config.http.trustProxy);
  app.disable('x-powered-by');
  app.use(securityHeaders());
  enableDashboardCors(app, config.http.corsOrigins);
  outlastLoadBalancerIdleTimeout(app, config.http.keepAliveTimeoutMs);
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
 * helmet's defaults (nosniff, frame and referrer policies, HSTS, a same-origin CSP) with two changes:
 * no `upgrade-insecure-requests` (TLS ends at the load balancer, and a plain-HTTP deployment on a private
 * network must still load Swagger UI's own scripts), and a CSP that Swagger UI and the queue dashboard
 * work under: scripts only from this origin, inline styles and data: images (both UIs use them), fonts
 * over https (the queue dashboard loads its font from Google).
 */
function securityHeaders() {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: true,
      directives: { 'upgrade-insecure-requests': null },
    },
  });
}

/**
 * CORS for the dashboard's origins only (CORS_ORIGINS). Another origin gets no CORS header at all (its
 * preflight falls through to a 404), and with the list empty the middleware is not installed. Browsers send
 * the tenant key in `Authorization`; no cookies, so no credentials. The limit headers are exposed so the
 * dashboard can back off before it is refused.
 */
function enableDashboardCors(app: NestExpressApplication, origins: string[]): void {
  if (origins.length === 0) return;
  const allowed = new Set(origins);
  app.enableCors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin) ? origin : false),
    methods: ['GET', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
    exposedHeaders: ['Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'X-Request-Id'],
    credentials: false,
    maxAge: 600,
  });
}

/**
 * A load balancer reuses idle connections to us for up to its idle timeout (AWS ALB 60 s by default). Node
 * closes idle keep-alive sockets after 5 s, so the balancer would now and then send a request on a socket we
 * are closing and answer 502. Our idle timeout must be the longer one; the header timeout must exceed it.
 */
function outlastLoadBalancerIdleTimeout(app: NestExpressApplication, keepAliveTimeoutMs: number): void {
  const server = app.getHttpServer() as import('node:http').Server;
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.headersTimeout = keepAliveTimeoutMs + 1_000;
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
