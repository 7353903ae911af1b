// The age v1 file format on node:crypto: keys, and streaming encryption and decryption.

export {
  fingerprint,
  formatIdentityFile,
  generateIdentity,
  parseIdentities,
  parseIdentity,
  parseRecipient,
  recipientOf,
  scryptIdentity,
  scryptRecipient,
  type Identity,
  type Recipient,
  type ScryptIdentity,
  type ScryptRecipient,
  type X25519Identity,
  type X25519Recipient,
} from './age-keys.js';
export { createEncryptStream } from './age-encrypt.js';
export { createDecryptStream, type DecryptOptions } from './age-decrypt.js';
