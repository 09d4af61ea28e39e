// Helper for server modules: tell the harness which port the server listens on.
//
// The harness starts every server module in its own child process and waits for the port:
// either an IPC message `{ port }` (used when the child has an IPC channel, as under the harness)
// or, when started by hand, the port printed as the first line of stdout.

/**
 * Reports the port of `server` to the parent once it is listening, and exits the process when the
 * parent goes away (so an interrupted harness never leaves servers behind).
 * @param {import('node:net').Server} server a server on which `listen()` has been called
 */
export function reportListening(server) {
  const send = () => {
    const address = server.address();
    if (address === null || typeof address === 'string') {
      throw new Error(`bench server: unexpected address ${JSON.stringify(address)}`);
    }
    if (process.send) process.send({ port: address.port });
    else process.stdout.write(`${address.port}\n`);
  };
  if (server.listening) send();
  else server.once('listening', send);
  server.once('error', (err) => {
    console.error(err);
    process.exit(1);
  });
  process.once('disconnect', () => process.exit(0));
}
