import { createParamDecorator, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { queryRows } from '../database/sql.js';
import { ConfigService } from '@nestjs/config';
import { DataSource } from 'typeorm';
import type { Request } from 'express';
import type { AppConfig } from '../config/app.config.js';
import { AppError } from './app-error.js';
import { hashApiKey, secretsEqual } from './secrets.js';

/** The authenticated tenant, as the guard found it (enough for authorisation; reload for balances). */
export interface AuthTenant {
  id: string;
  name: string;
}

type AuthedRequest = Request & { tenant?: AuthTenant };

/** `Authorization: Bearer <tenant API key>`; the key is looked up by its SHA-256 hash. */
@Injectable()
export class TenantGuard implements CanActivate {
  constructor(private readonly db: DataSource) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!match) throw new AppError('UNAUTHORIZED', 'Missing or malformed Authorization header (Bearer <API key>)');
    const rows: AuthTenant[] = await queryRows(this.db, 'SELECT id, name FROM tenants WHERE api_key_hash = $1', [
      hashApiKey(match[1]),
    ]);
    if (rows.length === 0) throw new AppError('UNAUTHORIZED', 'Invalid API key');
    req.tenant = rows[0];
    return true;
  }
}

/** `X-Admin-Api-Key: <ADMIN_API_KEY>`, compared in constant time. */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly adminKey: string;

  constructor(config: ConfigService<AppConfig, true>) {
    this.adminKey = config.get('adminApiKey', { infer: true });
  }

  canActivate(context: ExecutionContext): boolean {
    const given = context.switchToHttp().getRequest<Request>().headers['x-admin-api-key'];
    if (typeof given !== 'string' || !secretsEqual(given, this.adminKey)) {
      throw new AppError('UNAUTHORIZED', 'Missing or invalid X-Admin-Api-Key');
    }
    return true;
  }
}

export const CurrentTenant = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthTenant => {
  const tenant = ctx.switchToHttp().getRequest<AuthedRequest>().tenant;
  if (!tenant) throw new AppError('UNAUTHORIZED', 'Not authenticated');
  return tenant;
});
