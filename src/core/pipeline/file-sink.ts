// A Writable into a file this process opened and closes itself. fs.createWriteStream({ fd }) is not
// that: destroyed by its pipeline's abort signal it closes the descriptor even with autoClose: false
// (Node 20), so the owner's FileHandle.close() then fails with EBADF, which hid the restore's real
// error (a checksum mismatch), or closes whatever file got that descriptor number meanwhile.
import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  for (let offset = 0; offset < chunk.length;) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

/** Writes through `handle`; ending or destroying the stream leaves the handle open for its owner to close. */
export function fileHandleSink(handle: FileHandle): Writable {
  return new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _encoding, callback) {
      writeAll(handle, chunk).then(() => callback(), callback);
    },
    writev(chunks, callback) {
      writeAll(handle, Buffer.concat(chunks.map((c) => c.chunk as Buffer))).then(() => callback(), callback);
    },
  });
}
