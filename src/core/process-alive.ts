// Is a process on this host still running? Stale-run detection (daemon, drills, restore spools,
// status) asks before taking over what a process left behind.

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
