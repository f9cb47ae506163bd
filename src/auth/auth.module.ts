import { Module, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { AuthGuard } from './auth.guard';
import { ClientStateService } from './client-state.service';
import { ClientUsageService } from './client-usage.service';
import { CredentialThrottle } from './credential-throttle.service';
import { ClientsController } from './clients.controller';
import { ClientsRepository } from './clients.repository';
import { ClientsService } from './clients.service';
import { JwtKeyService } from './jwt-key.service';
import { TokenController } from './token.controller';
import { TokenService } from './token.service';
import { WriteKeysController } from './write-keys.controller';
import { WriteKeysRepository } from './write-keys.repository';
import { WriteKeysService } from './write-keys.service';

/** Trusted clients, tokens, and the global deny-by-default guard. */
@Module({
  imports: [JwtModule.register({})],
  controllers: [TokenController, ClientsController, WriteKeysController],
  providers: [
    ClientsRepository,
    JwtKeyService,
    ClientStateService,
    ClientUsageService,
    CredentialThrottle,
    ClientsService,
    WriteKeysRepository,
    WriteKeysService,
    TokenService,
    AuthGuard,
    // By class as well: routes served outside Nest's pipeline call AuthGuard.authenticate.
    { provide: APP_GUARD, useExisting: AuthGuard },
  ],
  exports: [ClientsRepository, ClientsService, ClientStateService, AuthGuard, WriteKeysService],
})
export class AuthModule implements OnApplicationBootstrap {
  constructor(private readonly clients: ClientsService) {}

  /** The admin from ADMIN_CLIENT_ID/SECRET (or a generated one in development) exists before we serve. */
  onApplicationBootstrap(): Promise<void> {
    return this.clients.bootstrapAdmin();
  }
}
