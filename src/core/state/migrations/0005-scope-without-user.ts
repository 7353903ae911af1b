// Reconciliation scopes named the sides by their masked URLs, user included: the same tables seen
// with and without a password in the URL (or after a user change) became two scopes, each with its
// own copy of every finding, the stale copy never resolved. Scopes are now user-free (see
// `reconcileScope`); rows recorded before are renamed, and copies merged into the one seen last.
import type { Migration } from '../migrate.js';

/** userinfo after a scheme: `postgres://user:***@host` → `postgres://host` (the same rule as reconcileScope) */
const USER = `'([a-z][a-z0-9+.-]*://)[^/?#@[:space:]]*@', '\\1', 'gi'`;

export const migration: Migration = {
  version: 5,
  name: 'scope-without-user',
  sql: `
    update fapiao_guard.reconcile_findings keep
       set first_seen = merged.first_seen, times_seen = merged.times_seen
      from (select regexp_replace(scope, ${USER}) as scope, fingerprint, min(first_seen) as first_seen, sum(times_seen)::int as times_seen
              from fapiao_guard.reconcile_findings group by 1, 2 having count(*) > 1) merged
     where regexp_replace(keep.scope, ${USER}) = merged.scope and keep.fingerprint = merged.fingerprint;
    delete from fapiao_guard.reconcile_findings f
     using fapiao_guard.reconcile_findings g
     where f.fingerprint = g.fingerprint and f.scope <> g.scope
       and regexp_replace(f.scope, ${USER}) = regexp_replace(g.scope, ${USER})
       and (f.last_seen, f.scope) < (g.last_seen, g.scope);
    update fapiao_guard.reconcile_findings set scope = regexp_replace(scope, ${USER}) where scope <> regexp_replace(scope, ${USER});
    update fapiao_guard.reconcile_runs set scope = regexp_replace(scope, ${USER}) where scope <> regexp_replace(scope, ${USER});
  `,
};
