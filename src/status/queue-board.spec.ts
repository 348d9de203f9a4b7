import { describe, it, expect, jest } from '@jest/globals';
import type { NextFunction, Request, Response } from 'express';
import { presentedAdminKey, queueBoardAuth } from './queue-board.js';

const KEY = 'admin-key-0123456789';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('queue board authentication', () => {
  it('takes the header, else the basic-auth password', () => {
    expect(presentedAdminKey({ 'x-admin-api-key': KEY })).toBe(KEY);
    expect(presentedAdminKey({ authorization: basic('admin', KEY) })).toBe(KEY);
    expect(presentedAdminKey({ authorization: basic('', 'pa:ss') })).toBe('pa:ss');
    expect(presentedAdminKey({ authorization: `Bearer ${KEY}` })).toBeUndefined();
    expect(presentedAdminKey({})).toBeUndefined();
  });

  function run(headers: Request['headers']) {
    const res = { setHeader: jest.fn(), status: jest.fn(), json: jest.fn() };
    res.status.mockReturnValue(res);
    const next = jest.fn();
    queueBoardAuth(KEY)({ headers } as Request, res as unknown as Response, next as NextFunction);
    return { res, next };
  }

  it('lets the admin in', () => {
    expect(run({ 'x-admin-api-key': KEY }).next).toHaveBeenCalled();
    expect(run({ authorization: basic('anyone', KEY) }).next).toHaveBeenCalled();
  });

  it('answers 401 with a basic-auth challenge otherwise', () => {
    for (const headers of [{}, { 'x-admin-api-key': 'wrong' }, { authorization: basic('admin', 'wrong') }]) {
      const { res, next } = run(headers);
      expect(next).not.toHaveBeenCalled();
      expect(res.status).toHaveBeenCalledWith(401);
      expect(res.setHeader).toHaveBeenCalledWith('WWW-Authenticate', expect.stringContaining('Basic'));
      expect(res.json).toHaveBeenCalledWith({ error: expect.objectContaining({ code: 'UNAUTHORIZED' }) });
    }
  });
});
