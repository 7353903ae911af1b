// The operations sections of the configuration (schedules, daemon, retention, notify), read in one
// call so that config.ts needs a single line for them.
import type { Reader } from '../core/config/reader.js';
import { type NotifierConfig, readNotifyConfig } from './notify/notify-config.js';
import { type RetentionConfig, readRetentionConfig } from '../backup/retention-config.js';
import { type DaemonConfig, type Schedules, readDaemonConfig, readSchedules } from './daemon-config.js';

export interface OpsConfig {
  schedules: Schedules;
  daemon: DaemonConfig;
  retention: RetentionConfig;
  notify: NotifierConfig[];
}

export function readOpsConfig(root: Reader, targetNames: readonly string[]): OpsConfig {
  return {
    schedules: readSchedules(root.object('schedules')),
    daemon: readDaemonConfig(root.object('daemon')),
    retention: readRetentionConfig(root.object('retention'), targetNames),
    notify: readNotifyConfig(root.array('notify')),
  };
}
