import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';
import { ApiError, type FieldError } from './api-error';
import { RAW_PAYLOAD } from './decorators';
import { pointerToken } from './json-pointer';
import { UNSTORABLE_RE, storableText } from './unstorable';

const MESSAGE = 'must not contain NUL characters or unpaired surrogates';

/**
 * Refuses, with a 400 naming the input, every request whose path parameters, query string or body
 * hold a string (value or key) with NUL or an unpaired surrogate. PostgreSQL text cannot hold
 * them: unchecked, they reached the database and came back as 500s. One global check instead of
 * one per DTO, so a new route is covered without thinking about it.
 *
 * Bodies of routes marked @RawPayload() are left alone (such strings in an event's payload are the
 * sender's data: the worker quarantines the event). The ingestion hot-path routes are served
 * outside Nest's pipeline and check their envelope fields themselves (ingestion/envelope.ts).
 */
@Injectable()
export class StringInputsInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') {
      const request = context.switchToHttp().getRequest<FastifyRequest>();
      const errors: FieldError[] = [];
      findUnstorable(request.params, '', 'param', errors);
      findUnstorable(request.query, '', 'query', errors);
      const raw = this.reflector.getAllAndOverride<boolean | undefined>(RAW_PAYLOAD, [
        context.getHandler(),
        context.getClass(),
      ]);
      if (!raw) findUnstorable(request.body, '', 'body', errors);
      if (errors.length)
        throw ApiError.validation(errors, 'The request holds a string PostgreSQL cannot store');
    }
    return next.handle();
  }
}

type Where = 'param' | 'query' | 'body';

/** Field errors for the strings (and keys) of `value` that hold NUL or an unpaired surrogate. */
export function findUnstorable(value: unknown, base: string, where: Where, errors: FieldError[]): void {
  if (value === null || value === undefined) return;
  // Explicit stack: a body may nest deeper than the call stack allows.
  const stack: { v: unknown; path: string }[] = [{ v: value, path: base }];
  while (stack.length > 0 && errors.length < 20) {
    const { v, path } = stack.pop()!;
    if (typeof v === 'string') {
      if (UNSTORABLE_RE.test(v)) errors.push({ path: label(where, path), message: MESSAGE });
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: `${path}/${i}` });
    } else if (typeof v === 'object' && v !== null) {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i];
        const child = `${path}/${pointerToken(storableText(key))}`;
        if (UNSTORABLE_RE.test(key)) errors.push({ path: label(where, child), message: MESSAGE });
        stack.push({ v: (v as Record<string, unknown>)[key], path: child });
      }
    }
  }
}

/** A JSON pointer for a body, the parameter's name for a path or query parameter. */
function label(where: Where, path: string): string {
  return where === 'body' ? path || '/' : path.slice(1).split('/')[0];
}
