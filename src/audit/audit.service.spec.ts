import type { AuditInsert, AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';

describe(AuditService.name, () => {
  it('never writes a detail whose key names a secret, a token, a password or a hash', async () => {
    const inserted: AuditInsert[] = [];
    const repo = {
      insert: (e: AuditInsert) => Promise.resolve(void inserted.push(e)),
    } as unknown as AuditRepository;
    const sut = new AuditService(repo);
    await sut.record({
      actorClientId: 'admin',
      action: 'client.rotated',
      target: 'cli_1',
      details: { client_secret: 's', secretHash: 'h', access_token: 't', password: 'p', name: 'shop' },
    });
    expect(inserted).toEqual([
      { actorClientId: 'admin', action: 'client.rotated', target: 'cli_1', details: { name: 'shop' } },
    ]);
  });
});
