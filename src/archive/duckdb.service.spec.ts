import { loadConfig } from '../config/config';
import { duckDbOptions } from './duckdb.service';

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
