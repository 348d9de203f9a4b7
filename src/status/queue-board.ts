// The queue dashboard (bull-board) at /admin/queues, behind the admin key.
//
// Wired with @bull-board/api + @bull-board/express directly rather than @bull-board/nestjs: the latter is
// CommonJS and `require`s @nestjs/common, which is ESM-only in Nest 12. Node 20.19+ loads that through
// require(esm), but Jest's module runtime on Node 20 cannot, so the e2e suite could not boot the app.
// The wiring it would do is the few lines below (same router, same middleware option).
import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectQueue } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { AppConfig } from '../config/app.config.js';
import { AppError } from '../common/app-error.js';
import { secretsEqual } from '../common/secrets.js';
import { QUEUES } from '../queues/queue-names.js';

export const QUEUE_BOARD_ROUTE = '/admin/queues';

/**
 * The admin key a request presents: header `X-Admin-Api-Key`, or the password of HTTP basic auth
 * (any user name) so that a browser can open the dashboard.
 */
export function presentedAdminKey(headers: Request['headers']): string | undefined {
  const header = headers['x-admin-api-key'];
  if (typeof header === 'string' && header) return header;
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(headers.authorization ?? '');
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 ? decoded.slice(colon + 1) : undefined;
}

/** Express middleware in front of bull-board: 401 with a basic-auth challenge unless the admin key is given. */
export function queueBoardAuth(adminKey: string): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const given = presentedAdminKey(req.headers);
    if (given !== undefined && secretsEqual(given, adminKey)) return next();
    const error = new AppError('UNAUTHORIZED', 'Missing or invalid admin key (X-Admin-Api-Key or basic auth password)');
    res.setHeader('WWW-Authenticate', 'Basic realm="queues", charset="UTF-8"');
    res.status(error.status).json(error.toBody());
  };
}

/** The dashboard over both queues; StatusModule mounts `handlers` at QUEUE_BOARD_ROUTE. */
@Injectable()
export class QueueBoard {
  readonly handlers: RequestHandler[];

  constructor(
    @InjectQueue(QUEUES.batches) batches: Queue,
    @InjectQueue(QUEUES.campaigns) campaigns: Queue,
    config: ConfigService<AppConfig, true>,
  ) {
    const server = new ExpressAdapter();
    server.setBasePath(QUEUE_BOARD_ROUTE);
    createBullBoard({
      queues: [new BullMQAdapter(batches), new BullMQAdapter(campaigns)],
      // @bull-board/express pins its own copy of @bull-board/api (9.10.1 beside our 9.10.2); the types
      // differ only by that copy's private fields, and the adapter imports nothing from it at runtime.
      serverAdapter: server as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
      options: { uiConfig: { boardTitle: 'Bulk SMS queues' } },
    });
    this.handlers = [queueBoardAuth(config.get('adminApiKey', { infer: true })), server.getRouter() as RequestHandler];
  }
}
