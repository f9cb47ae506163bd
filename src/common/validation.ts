import { ValidationPipe, applyDecorators, type ValidationError } from '@nestjs/common';
import { IsInt, Max, Min } from 'class-validator';
import { ApiError, type FieldError } from './api-error';

/**
 * One message per field: "is required" when it is missing (optional fields are skipped by
 * class-validator when absent, so any failure of an absent field means it is required), else the
 * first failing check in declaration order (class-validator lists the last-declared first), which
 * is the type check in our DTOs: `limit=abc` says it must be an integer, not also that it is
 * neither ≥ 1 nor ≤ 1000.
 */
function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    const path = `${parent}/${e.property}`;
    const messages = Object.values(e.constraints ?? {});
    if (messages.length > 0) {
      out.push({ path, message: e.value === undefined ? 'is required' : messages[messages.length - 1] });
    }
    if (e.children?.length) out.push(...flatten(e.children, path));
  }
  return out;
}

/**
 * class-validator for admin and query DTOs (not for events: see ingestion/envelope.ts).
 * Query strings are transformed to the DTO's types; unknown properties are refused.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    exceptionFactory: (errors) => ApiError.validation(flatten(errors)),
  });
}

/** An integer in [min, max], with one message that names the whole rule whichever part fails. */
export function IntRange(min: number, max: number): PropertyDecorator {
  const message = `$property must be an integer from ${min} to ${max}`;
  return applyDecorators(IsInt({ message }), Min(min, { message }), Max(max, { message }));
}
