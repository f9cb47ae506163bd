// CPU and memory of processes, read from /proc (Linux): the benchmark's resource figures.
import { readFileSync, readdirSync } from 'node:fs';

const CLK_TCK = 100;

/** /proc/<pid>/status VmRSS and VmHWM in MB. */
export function procMem(pid: number): { rssMb: number; hwmMb: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string): number => Number((new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s) || [])[1]);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) of a process from /proc/<pid>/stat. */
export function procCpuSec(pid: number): number | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime + stime
  } catch {
    return null;
  }
}

/**
 * CPU seconds of the whole machine (all cores) from one read of /proc/stat: `busy` (steal included)
 * and `steal`, the time the hypervisor gave to other guests while this VM wanted it: time every
 * process here lost, which shows in latency although no process of ours used it.
 */
export function machineCpu(): { busy: number | null; steal: number | null } {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    return { busy: (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / CLK_TCK, steal: f[7] / CLK_TCK };
  } catch {
    return { busy: null, steal: null };
  }
}

type StoreName = 'postgres' | 'redis';
export type CpuSnapshot = Map<string, { name: StoreName; cpu: number }>;

/**
 * CPU seconds per process of postgres (server processes and the backends of the bench database only;
 * backends of other databases are other work) and redis-server. Deltas are taken per pid, so a process
 * exiting in between (another test's backend) cannot make a figure negative.
 */
export function cpuSnapshot(dbName: string): CpuSnapshot {
  const snap: CpuSnapshot = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
      let name: StoreName;
      if (comm.startsWith('redis-server')) name = 'redis';
      else if (comm.startsWith('postgres')) {
        const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
        const isBackend = /\(\d+\)|\[local\]/.test(cmd);
        if (isBackend && !cmd.includes(` ${dbName} `)) continue;
        name = 'postgres';
      } else continue;
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      snap.set(d, { name, cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK });
    } catch {
      // the process ended between the listing and the read
    }
  }
  return snap;
}

export function cpuDelta(a: CpuSnapshot, b: CpuSnapshot): Record<StoreName, number> {
  const out = { postgres: 0, redis: 0 };
  for (const [pid, v] of b) out[v.name] += v.cpu - (a.get(pid)?.cpu ?? 0);
  return out;
}
