// What a run tells people (pure): which events it raises, and one message per event that reads well
// on a phone: what happened, to which target, the one-line cause, when and where. No links.
import { formatSeconds } from '../../core/config/duration.js';
import { formatTime } from '../../core/format.js';
import { oneLine } from '../../core/errors.js';
import type { NotifyEvent } from './notify-config.js';

export interface RunFacts {
  runId: number;
  job: string;
  target: string;
  status: 'succeeded' | 'failed' | 'interrupted';
  /** true for failed runs and for runs interrupted by a crash (not by a clean shutdown) */
  isFailure: boolean;
  summary: string | null;
  error: string | null;
  fireTime: string;
  finishedAt: string;
  host: string;
  durationSeconds: number;
  /** open findings the run reported (reconcile), 0 otherwise */
  findings: number;
}

export interface Message {
  event: NotifyEvent;
  title: string;
  /** plain text, a few short lines */
  text: string;
  /** the structured form, for the generic webhook */
  payload: Record<string, unknown>;
}

/** Most important first: a channel gets one message per run, for the first event it subscribed to. */
export function eventsFor(
  run: Pick<RunFacts, 'status' | 'isFailure' | 'findings'>,
  previousWasFailure: boolean,
): NotifyEvent[] {
  const events: NotifyEvent[] = [];
  if (run.isFailure) events.push('failure');
  if (run.findings > 0) events.push('findings');
  if (run.status === 'succeeded') {
    if (previousWasFailure) events.push('recovery');
    events.push('success');
  }
  return events;
}

const TITLES: Record<NotifyEvent, string> = {
  failure: 'FAILED',
  findings: 'FINDINGS',
  recovery: 'RECOVERED',
  success: 'OK',
};

export function buildMessage(event: NotifyEvent, run: RunFacts, timeZone: string): Message {
  const what = `${run.job} of '${run.target}'`;
  const title = `[fapiao-guard] ${TITLES[event]}: ${what}`;
  const cause = event === 'failure' ? (run.error ?? run.summary ?? 'no cause recorded') : undefined;
  const lines = [
    title,
    ...(cause ? [`cause: ${shorten(oneLine(cause), 300)}`] : run.summary ? [shorten(oneLine(run.summary), 300)] : []),
    ...(event === 'findings' ? [`open findings: ${run.findings}`] : []),
    `when: ${formatTime(run.finishedAt, timeZone)} (${formatSeconds(run.durationSeconds)})`,
    `host: ${run.host} · run #${run.runId}`,
  ];
  return {
    event,
    title,
    text: lines.join('\n'),
    payload: {
      source: 'fapiao-guard',
      event,
      title,
      text: lines.join('\n'),
      job: run.job,
      target: run.target,
      status: run.status,
      runId: run.runId,
      fireTime: run.fireTime,
      finishedAt: run.finishedAt,
      durationSeconds: run.durationSeconds,
      host: run.host,
      summary: run.summary,
      error: run.error,
      findings: run.findings,
    },
  };
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
