import { createServer, type Server, type Socket } from 'node:net';

/**
 * The demo's in-process MQTT broker: aedes (MQTT 3.1.1) on 127.0.0.1 and a free port, plain TCP, no auth.
 * aedes is a devDependency, imported only here and only when the demo runs, so the agent itself never loads it.
 * stop() closes client sockets, the server and the broker.
 */
interface AedesBroker {
  handle: (socket: Socket) => void;
  close(cb?: () => void): void;
}

export class EmbeddedBroker {
  private server?: Server;
  private broker?: AedesBroker;
  private readonly sockets = new Set<Socket>();
  port = 0;

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const { Aedes } = (await import('aedes')) as unknown as { Aedes: { createBroker(): Promise<AedesBroker> } };
    const broker = await Aedes.createBroker();
    this.broker = broker;
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      broker.handle(socket);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    const broker = this.broker;
    this.server = undefined;
    this.broker = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
  }
}
