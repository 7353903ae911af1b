// A 127.0.0.1 port where connecting is refused (ECONNREFUSED) for as long as the test holds it.
// A server closed for the purpose frees its port for anyone to listen on (test files run in
// parallel, and other checkouts share the machine), so "nothing listens there" would be luck. The
// local port of an open connection of ours is held by the kernel: it lets nobody listen on it while
// the connection lives (the connecting socket does not share its port), and nothing listens there.
import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';

export interface RefusedPort {
  port: number;
  /** `127.0.0.1:<port>` */
  host: string;
  release(): Promise<void>;
}

export async function refusedPort(): Promise<RefusedPort> {
  const accepted: Socket[] = [];
  const anchor: Server = createServer((s) => accepted.push(s));
  await new Promise<void>((resolve) => anchor.listen(0, '127.0.0.1', resolve));
  const held = connect((anchor.address() as AddressInfo).port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => held.once('connect', resolve).once('error', reject));
  const port = held.localPort!;
  return {
    port,
    host: `127.0.0.1:${port}`,
    release: async () => {
      held.destroy();
      for (const s of accepted) s.destroy();
      await new Promise<void>((resolve) => anchor.close(() => resolve()));
    },
  };
}
