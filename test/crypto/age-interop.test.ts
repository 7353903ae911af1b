// Interoperability with the reference implementations: the age CLI (Go) and age-encryption (JS).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Decrypter, Encrypter, Stanza } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import {
  formatIdentityFile,
  generateIdentity,
  parseIdentities,
  parseIdentity,
  parseRecipient,
  scryptIdentity,
  scryptRecipient,
} from '../../src/core/crypto/index.js';
import { decrypt, encrypt, pseudoRandom, run, withTempDir, writeFile } from './age-helpers.js';

const sizes = [0, 1, 65536, 65537, 3 * 65536, 1_000_003];

describe('age CLI interop', () => {
  it('the age CLI decrypts what we encrypt, for several sizes and two recipients', async () => {
    const a = generateIdentity();
    const b = generateIdentity();
    await withTempDir(async (dir) => {
      const keyA = writeFile(dir, 'a.txt', formatIdentityFile(a.identity));
      const keyB = writeFile(dir, 'b.txt', `${b.identity}\n`);
      for (const size of sizes) {
        const data = pseudoRandom(size, size + 11);
        const file = await encrypt(data, [parseRecipient(a.recipient), parseRecipient(b.recipient)]);
        expect(run('age', ['-d', '-i', keyA], file).equals(data), `size ${size} key a`).toBe(true);
        expect(run('age', ['-d', '-i', keyB], file).equals(data), `size ${size} key b`).toBe(true);
      }
    });
  });

  it('we decrypt what age -r and age -R encrypt', async () => {
    const a = generateIdentity();
    const b = generateIdentity();
    await withTempDir(async (dir) => {
      const recipients = writeFile(dir, 'recipients.txt', `# team\n${a.recipient}\n\n${b.recipient}\n`);
      for (const size of sizes) {
        const data = pseudoRandom(size, size + 5);
        const viaR = run('age', ['-r', a.recipient], data);
        expect((await decrypt(viaR, [parseIdentity(a.identity)])).equals(data), `-r size ${size}`).toBe(true);
        const viaFile = run('age', ['-R', recipients], data);
        expect((await decrypt(viaFile, [parseIdentity(b.identity)])).equals(data), `-R size ${size}`).toBe(true);
      }
    });
  });

  it('uses a key written by age-keygen -o, and age-keygen -y agrees on its recipient', async () => {
    await withTempDir(async (dir) => {
      const keyFile = join(dir, 'key.txt');
      run('age-keygen', ['-o', keyFile]);
      const [identity] = parseIdentities(readFileSync(keyFile, 'utf8'), keyFile);
      expect(identity!.recipient).toBe(run('age-keygen', ['-y', keyFile]).toString().trim());
      const data = randomBytes(200_000);
      expect((await decrypt(run('age', ['-r', identity!.recipient], data), [identity!])).equals(data)).toBe(true);
      const ours = await encrypt(data, [parseRecipient(identity!.recipient)]);
      expect(run('age', ['-d', '-i', keyFile], ours).equals(data)).toBe(true);
    });
  });

  it('age-keygen -y reads our identity file and age -d -i uses it', async () => {
    const ours = generateIdentity();
    await withTempDir(async (dir) => {
      const keyFile = writeFile(dir, 'ours.txt', formatIdentityFile(ours.identity));
      expect(run('age-keygen', ['-y', keyFile]).toString().trim()).toBe(ours.recipient);
      const data = Buffer.from('invoice 12345\n');
      expect(run('age', ['-d', '-i', keyFile], run('age', ['-r', ours.recipient], data)).equals(data)).toBe(true);
    });
  });
});

describe('age-encryption (JS reference) interop', () => {
  it('passphrase files: the reference decrypts ours and we decrypt the reference', async () => {
    for (const size of [0, 65536, 100_000]) {
      const data = pseudoRandom(size, size + 3);
      const ours = await encrypt(data, [scryptRecipient('fapiao passphrase', 12)]);
      const d = new Decrypter();
      d.addPassphrase('fapiao passphrase');
      expect(Buffer.from(await d.decrypt(ours)).equals(data), `ours ${size}`).toBe(true);

      const e = new Encrypter();
      e.setPassphrase('fapiao passphrase');
      e.setScryptWorkFactor(12);
      const theirs = Buffer.from(await e.encrypt(data));
      expect((await decrypt(theirs, [scryptIdentity('fapiao passphrase')])).equals(data), `theirs ${size}`).toBe(true);
    }
  });

  it('X25519 files both ways, and unknown stanza types are skipped', async () => {
    const a = generateIdentity();
    const data = pseudoRandom(150_000, 1);
    const d = new Decrypter();
    d.addIdentity(a.identity);
    expect(Buffer.from(await d.decrypt(await encrypt(data, [parseRecipient(a.recipient)]))).equals(data)).toBe(true);

    const e = new Encrypter();
    // A foreign stanza with a 48-byte body: exercises the empty final body line too.
    e.addRecipient({ wrapFileKey: () => [new Stanza(['example.com/other', 'x'], randomBytes(48))] });
    e.addRecipient(a.recipient);
    const theirs = Buffer.from(await e.encrypt(data));
    expect(theirs.toString('latin1')).toContain('-> example.com/other x\n');
    expect((await decrypt(theirs, [parseIdentity(a.identity)])).equals(data)).toBe(true);
  });
});
