import { BadRequestException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { AllExceptionsFilter, sqlState } from './all-exceptions.filter';
import { ApiError } from './api-error';

/** What `pg` throws: a DatabaseError with severity and SQLSTATE code, and the SQL's words. */
const pgError = (code: string) =>
  Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code, severity: 'ERROR' });

/** What Prisma's driver adapter throws, and what Prisma wraps it in. */
const adapterError = (code: string) =>
  Object.assign(new Error('DriverAdapterError'), {
    name: 'DriverAdapterError',
    cause: { originalCode: code, kind: 'postgres', message: 'SELECT secret FROM clients' },
  });
const prismaKnownError = (code: string) =>
  Object.assign(new Error('Invalid `prisma.client.create()` invocation'), {
    code: 'P2000',
    meta: { driverAdapterError: adapterError(code) },
  });

describe(AllExceptionsFilter.name, () => {
  const sut = new AllExceptionsFilter();
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['error', 'warn', 'log']));

  it.each([
    ['from pg', pgError('22021')],
    ['from the Prisma adapter', adapterError('22P05')],
    ['wrapped by Prisma', prismaKnownError('22001')],
  ])('answers a PostgreSQL data exception (class 22) %s with a 400 that leaks no SQL', (_label, err) => {
    const res = sut.toResponse(err);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('bad_request');
    expect(JSON.stringify(res.body)).not.toMatch(/SELECT|byte sequence|prisma|UTF8/i);
  });

  it.each([
    ['an integrity violation', pgError('23505')],
    ['a connection failure', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'x')")],
  ])('still answers %s with a bare 500', (_label, err) => {
    expect(sut.toResponse(err)).toEqual({
      status: 500,
      body: { code: 'internal_error', message: 'Internal server error' },
    });
  });

  it("logs an unexpected error with its stack to the given log (the request's), nothing else", () => {
    const log = { error: jest.fn(), warn: jest.fn() };
    const bug = new TypeError('x is undefined');
    expect(sut.toResponse(bug, log).status).toBe(500);
    expect(log.error).toHaveBeenCalledTimes(1);
    expect(log.error).toHaveBeenCalledWith(bug.stack);
    expect(log.warn).not.toHaveBeenCalled();
  });

  it('warns about a data exception without the SQL, and logs no refusal of the client as an error', () => {
    const log = { error: jest.fn(), warn: jest.fn() };
    sut.toResponse(pgError('22021'), log);
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.warn).toHaveBeenCalledWith(
      'request refused by PostgreSQL with SQLSTATE 22021 (data exception)',
    );
    sut.toResponse(new ApiError(429, 'rate_limited', 'slow down'), log);
    sut.toResponse(new BadRequestException('nope'), log);
    expect(log.error).not.toHaveBeenCalled();
    expect(log.warn).toHaveBeenCalledTimes(1);
  });

  it("answers through the reply, logging refusals at debug on the request's logger", () => {
    const reply = {
      log: { debug: jest.fn(), error: jest.fn(), warn: jest.fn() },
      headers: jest.fn(),
      status: jest.fn(),
      send: jest.fn(),
    };
    reply.status.mockReturnValue(reply);
    const err = new ApiError(429, 'rate_limited', 'Slow down', undefined, { 'Retry-After': '2' });
    sut.send(reply as unknown as FastifyReply, err);
    expect(reply.headers).toHaveBeenCalledWith({ 'Retry-After': '2' });
    expect(reply.status).toHaveBeenCalledWith(429);
    expect(reply.send).toHaveBeenCalledWith({ code: 'rate_limited', message: 'Slow down' });
    expect(reply.log.debug).toHaveBeenCalledTimes(1);
    expect(reply.log.debug).toHaveBeenCalledWith('429 rate_limited: Slow down');
    expect(reply.log.error).not.toHaveBeenCalled();
  });

  it('reads the SQLSTATE only where pg and the adapter put it', () => {
    expect(sqlState(pgError('22P02'))).toBe('22P02');
    expect(sqlState(adapterError('22003'))).toBe('22003');
    expect(sqlState(prismaKnownError('22001'))).toBe('22001');
    // A Node system error's code is not a SQLSTATE, nor is a code without pg's severity.
    expect(sqlState(Object.assign(new Error('x'), { code: 'EPIPE' }))).toBeUndefined();
    expect(sqlState(Object.assign(new Error('x'), { code: '22021' }))).toBeUndefined();
    expect(sqlState(null)).toBeUndefined();
  });
});
