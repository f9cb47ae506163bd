import { SetMetadata } from '@nestjs/common';

// Route decorators of the auth guard (@Public, @Scopes, @Principal…) are in auth/auth.decorators.ts.

export const RAW_PAYLOAD = 'the-eye:raw-payload';

/**
 * The route's body is event payload: strings PostgreSQL cannot store (NUL, unpaired surrogates)
 * are the sender's data, quarantined by the worker, not refused by the global string check.
 */
export const RawPayload = (): MethodDecorator & ClassDecorator => SetMetadata(RAW_PAYLOAD, true);
