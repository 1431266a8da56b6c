import type { Socket, TCPSocketListener } from 'bun';

export interface TcpProxy {
  port: number;
  /** Stops listening and ends every open connection: the target looks unreachable. */
  close(): void;
  /** Listens again on the same port. */
  reopen(): void;
}

/** One direction's writes, queued while the peer socket is not connected or is full. */
class Outbox {
  socket?: Socket<Pipe>;
  private queue: Uint8Array[] = [];
  private ending = false;

  write(chunk: Uint8Array): void {
    // Bun may reuse the buffer it hands to `data`, so queued bytes are copied.
    this.queue.push(new Uint8Array(chunk));
    this.flush();
  }

  flush(): void {
    const socket = this.socket;
    if (!socket) return;
    while (this.queue.length) {
      const chunk = this.queue[0]!;
      const written = socket.write(chunk);
      if (written < chunk.length) {
        this.queue[0] = chunk.subarray(Math.max(written, 0));
        return;
      }
      this.queue.shift();
    }
    if (this.ending) socket.end();
  }

  end(): void {
    this.ending = true;
    this.flush();
  }
}

interface Pipe {
  toClient: Outbox;
  toTarget: Outbox;
}

/** A TCP proxy on 127.0.0.1 to `target`, to make a server unreachable and reachable again. */
export function tcpProxy(target: { hostname: string; port: number }): TcpProxy {
  const open = new Set<Pipe>();
  const listen = (port: number): TCPSocketListener<Pipe> =>
    Bun.listen<Pipe>({
      hostname: '127.0.0.1',
      port,
      socket: {
        open(client) {
          const pipe: Pipe = { toClient: new Outbox(), toTarget: new Outbox() };
          pipe.toClient.socket = client;
          client.data = pipe;
          open.add(pipe);
          Bun.connect<Pipe>({
            ...target,
            data: pipe,
            socket: {
              data: (_, chunk) => pipe.toClient.write(chunk),
              drain: () => pipe.toTarget.flush(),
              close: () => pipe.toClient.end(),
              error: () => pipe.toClient.end(),
            },
          }).then(
            (upstream) => {
              // Closed while connecting: nothing may stay open.
              if (!open.has(pipe)) return void upstream.end();
              pipe.toTarget.socket = upstream;
              pipe.toTarget.flush();
            },
            () => client.end(),
          );
        },
        data: (client, chunk) => client.data.toTarget.write(chunk),
        drain: (client) => client.data.toClient.flush(),
        close(client) {
          client.data.toTarget.end();
          open.delete(client.data);
        },
        error(client) {
          client.end();
        },
      },
    });
  let listener = listen(0);
  const port = listener.port;
  return {
    port,
    close() {
      listener.stop(true);
      for (const pipe of open) {
        pipe.toClient.socket?.end();
        pipe.toTarget.socket?.end();
      }
      open.clear();
    },
    reopen() {
      listener = listen(port);
    },
  };
}
