import { loadConfig } from '../config/config';
import { DuckDbService, IDLE_CLOSE_MS, duckDbOptions } from './duckdb.service';

describe(duckDbOptions.name, () => {
  it('never asks for more threads than the machine has cores', () => {
    const config = loadConfig({ DUCKDB_THREADS: '8', ARCHIVE_DIR: '/srv/archive' });
    expect(duckDbOptions(config, 2).threads).toBe('2');
    expect(duckDbOptions(config, 16).threads).toBe('8');
  });

  it('passes the memory limit and spills under the archive directory, never downloading extensions', () => {
    const sut = duckDbOptions(loadConfig({ DUCKDB_MEMORY_LIMIT: '1 GB', ARCHIVE_DIR: '/srv/archive' }), 4);
    expect(sut).toEqual({
      threads: '2',
      memory_limit: '1GB',
      temp_directory: '/srv/archive/.duckdb-tmp',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
  });
});

describe(DuckDbService.name, () => {
  afterEach(() => jest.useRealTimers());

  it('closes the engine (and its buffer pool) once no connection has been open for IDLE_CLOSE_MS', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    const sut = new DuckDbService(loadConfig({ ARCHIVE_DIR: '/tmp/the-eye-duckdb-spec' }));
    expect(await sut.use(async (c) => (await c.runAndReadAll('SELECT 42 AS n')).getRowObjects())).toEqual([
      { n: 42 },
    ]);
    const held = await sut.connect();
    jest.advanceTimersByTime(IDLE_CLOSE_MS * 2);
    expect(sut.started).toBe(true); // a connection is still open
    sut.release(held);
    jest.advanceTimersByTime(IDLE_CLOSE_MS - 1);
    expect(sut.started).toBe(true);
    jest.advanceTimersByTime(1);
    expect(sut.started).toBe(false);
    // Used again: started again.
    await sut.use((c) => c.run('SELECT 1'));
    expect(sut.started).toBe(true);
    await sut.onApplicationShutdown();
  });
});
