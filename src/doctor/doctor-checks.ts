// `doctor`'s results and what they mean (pure): one line per check, the exit code, and the pieces
// of judgement that need no I/O (pg_dump against the server's major, supported column types).

export type DoctorStatus = 'ok' | 'failed' | 'unchecked';

export interface DoctorCheck {
  /** target:NAME, reconcile, repository, encryption, state, notify */
  section: string;
  /** what was checked, e.g. `connection`, `verifyTables billing."TaxRate"` */
  check: string;
  status: DoctorStatus;
  /** what was found, one line */
  detail: string;
  /** how to fix it (failed and unchecked checks) */
  fix?: string;
}

export function ok(section: string, check: string, detail: string): DoctorCheck {
  return { section, check, status: 'ok', detail };
}

export function failed(section: string, check: string, detail: string, fix?: string): DoctorCheck {
  return { section, check, status: 'failed', detail, ...(fix ? { fix } : {}) };
}

export function unchecked(section: string, check: string, detail: string, fix?: string): DoctorCheck {
  return { section, check, status: 'unchecked', detail, ...(fix ? { fix } : {}) };
}

/** 0 all good · 1 a check failed · 3 a check could not run (and none failed). */
export function doctorExitCode(checks: readonly DoctorCheck[]): 0 | 1 | 3 {
  if (checks.some((c) => c.status === 'failed')) return 1;
  if (checks.some((c) => c.status === 'unchecked')) return 3;
  return 0;
}

const MARK: Record<DoctorStatus, string> = { ok: '✓', failed: '✗', unchecked: '?' };

export function renderDoctor(checks: readonly DoctorCheck[]): string {
  return checks
    .map((c) => `${MARK[c.status]} ${c.section}: ${c.check}: ${c.detail}${c.fix ? ` (fix: ${c.fix})` : ''}\n`)
    .join('');
}

/** pg_dump dumps servers of its own major and older; a newer server needs a newer pg_dump. */
export function pgDumpFits(pgDumpVersion: string, serverVersion: string): boolean {
  const major = (v: string): number => Number(/^\d+/.exec(v)?.[0] ?? NaN);
  return major(pgDumpVersion) >= major(serverVersion);
}
