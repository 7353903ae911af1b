// Which backups a copy moves (pure). Only complete backups of the source are copied. By default,
// those newer than the newest complete backup already in the destination, oldest first: a backup
// the destination's retention pruned is not copied again. `all` copies every one it lacks.
export interface PlanInput {
  id: string;
  status: 'complete' | 'incomplete' | 'damaged';
}

export interface CopyPlanEntry {
  id: string;
  action: 'copy' | 'present' | 'older';
  /** for 'copy': the destination holds an incomplete or damaged copy that is resumed or repaired */
  resume?: boolean;
}

export interface CopyPlanOptions {
  /** copy every complete source backup the destination lacks, also older ones */
  all?: boolean;
  /** only this backup id (already resolved against the source) */
  only?: string;
}

export function planCopy(
  source: readonly PlanInput[],
  destination: readonly PlanInput[],
  options: CopyPlanOptions = {},
): CopyPlanEntry[] {
  const there = new Map(destination.map((d) => [d.id, d.status]));
  const newestThere = destination
    .filter((d) => d.status === 'complete')
    .map((d) => d.id)
    .sort()
    .at(-1);
  return source
    .filter((s) => s.status === 'complete' && (options.only === undefined || s.id === options.only))
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((s): CopyPlanEntry => {
      const status = there.get(s.id);
      if (status === 'complete') return { id: s.id, action: 'present' };
      const wanted = options.all || options.only !== undefined || newestThere === undefined || s.id > newestThere;
      if (!wanted) return { id: s.id, action: 'older' };
      return status ? { id: s.id, action: 'copy', resume: true } : { id: s.id, action: 'copy' };
    });
}
