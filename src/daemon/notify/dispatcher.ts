// Sends a run's message to every channel that wants one of its events, each with bounded retries and
// backoff. Never throws: a failing notifier is logged and must not fail the job it reports on.
import { messageOf } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Notifier } from './channels.js';
import type { Message } from './message.js';
import type { NotifyEvent } from './notify-config.js';

export interface DispatchResult {
  channel: string;
  event: NotifyEvent;
  ok: boolean;
  attempts: number;
  error?: string;
}

export class NotifyDispatcher {
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly controller = new AbortController();

  constructor(
    private readonly channels: readonly Notifier[],
    private readonly logger: Logger,
    /** first retry delay; doubles per attempt, capped at 30 s */
    private readonly backoffMs = 1000,
  ) {}

  /** One message per channel: for the first of `events` (most important first) it subscribed to. */
  notify(events: readonly NotifyEvent[], build: (event: NotifyEvent) => Message): Promise<DispatchResult[]> {
    const sends = this.channels.flatMap((channel) => {
      const event = events.find((e) => channel.on.includes(e));
      return event ? [this.deliver(channel, build(event))] : [];
    });
    const all = Promise.all(sends);
    this.inFlight.add(all);
    void all.finally(() => this.inFlight.delete(all));
    return all;
  }

  /** Wait for messages still being sent, at most `ms`; then give up on them. */
  async drain(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms))));
    await Promise.race([Promise.allSettled([...this.inFlight]), timeout]);
    clearTimeout(timer);
    this.controller.abort();
  }

  private async deliver(channel: Notifier, message: Message): Promise<DispatchResult> {
    const log = this.logger.child({ notifier: channel.label, event: message.event });
    let error = '';
    for (let attempt = 1; attempt <= channel.retries + 1; attempt++) {
      try {
        await channel.send(message, this.controller.signal);
        log.info({ attempts: attempt }, 'notification sent');
        return { channel: channel.label, event: message.event, ok: true, attempts: attempt };
      } catch (err) {
        error = messageOf(err);
        const last = attempt > channel.retries || this.controller.signal.aborted;
        log.warn({ attempt, err: error }, last ? 'notification failed; giving up' : 'notification failed; retrying');
        if (last) return { channel: channel.label, event: message.event, ok: false, attempts: attempt, error };
        await sleep(Math.min(30_000, this.backoffMs * 2 ** (attempt - 1)), this.controller.signal);
      }
    }
    return { channel: channel.label, event: message.event, ok: false, attempts: channel.retries + 1, error };
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}
