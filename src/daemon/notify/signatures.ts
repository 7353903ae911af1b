// Request signatures of the chat robots and of our generic webhook (pure, so tests can recompute them).
import { createHmac } from 'node:crypto';

/** DingTalk robot 加签: HMAC-SHA256(key = secret, data = `${ms}\n${secret}`), base64, then URL-encoded. */
export function dingtalkSign(secret: string, timestampMs: number): string {
  return encodeURIComponent(createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64'));
}

/** Feishu robot 签名校验: HMAC-SHA256(key = `${seconds}\n${secret}`, data = empty), base64. */
export function feishuSign(secret: string, timestampSeconds: number): string {
  return createHmac('sha256', `${timestampSeconds}\n${secret}`).update('').digest('base64');
}

/** Generic webhook: `sha256=` + hex HMAC-SHA256(secret, `${seconds}.${body}`); the timestamp stops replays. */
export function webhookSignature(secret: string, timestampSeconds: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}
