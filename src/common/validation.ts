import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { ApiError, type FieldError } from './api-error';

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    const path = `${parent}/${e.property}`;
    for (const message of Object.values(e.constraints ?? {})) out.push({ path, message });
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
