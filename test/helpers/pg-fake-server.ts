import { createServer, type Server, type Socket } from 'node:net';

/**
 * A server that speaks just enough of the PostgreSQL protocol to ask for a cleartext password and
 * refuse it with `refuse` (a FATAL ErrorResponse): the local cluster trusts 127.0.0.1
 * (pg_hba.conf), so it never checks a password, and changing the shared cluster's pg_hba for a
 * test is not ours to do. `close()` stops it.
 */
export async function fakePgServer(refuse: { code: string; message: string }): Promise<{ port: number; passwordsSeen: string[]; close(): Promise<void> }> {
  const passwordsSeen: string[] = [];
  const server: Server = createServer((sock: Socket) => {
    let buf = Buffer.alloc(0);
    let started = false;
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!started && buf.length >= 8) {
        const len = buf.readInt32BE(0);
        if (buf.length < len) return;
        const sslRequest = len === 8 && buf.readInt32BE(4) === 80877103;
        buf = buf.subarray(len);
        if (sslRequest) {
          sock.write('N'); // no TLS here; the client goes on in the clear (sslmode=prefer)
          return;
        }
        started = true;
        const auth = Buffer.alloc(9);
        auth.write('R', 0);
        auth.writeInt32BE(8, 1);
        auth.writeInt32BE(3, 5); // AuthenticationCleartextPassword
        sock.write(auth);
      }
      if (started && buf.length >= 5 && buf[0] === 0x70) {
        const len = buf.readInt32BE(1);
        if (buf.length < len + 1) return;
        passwordsSeen.push(buf.subarray(5, len).toString('utf8').replace(/\0$/, ''));
        const fields = Buffer.concat([
          ...[['S', 'FATAL'], ['V', 'FATAL'], ['C', refuse.code], ['M', refuse.message]].map(([k, v]) => Buffer.from(`${k}${v}\0`, 'utf8')),
          Buffer.from([0]),
        ]);
        const head = Buffer.alloc(5);
        head.write('E', 0);
        head.writeInt32BE(fields.length + 4, 1);
        sock.end(Buffer.concat([head, fields]));
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    passwordsSeen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
