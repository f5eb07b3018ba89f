import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP proxy in front of the api that can lose an answer: with {@link FlakyProxy.loseNextAnswer}
 * set, the next bytes the api sends back (on any connection) are dropped and the client's
 * connection is cut, after the api has received, and acted on, the whole request. What a client
 * sees when a load balancer or a network drops the connection mid-answer.
 */
export interface FlakyProxy {
  port: number;
  url: string;
  /** Cut the client's connection at the next answer, instead of passing it on. */
  loseNextAnswer(): void;
  /** Answers cut so far. */
  lost(): number;
  close(): Promise<void>;
}

/** Listens on `port` (0: a free one) and forwards to 127.0.0.1:`targetPort`. */
export async function startFlakyProxy(targetPort: number, port = 0): Promise<FlakyProxy> {
  let loseNext = false;
  let lost = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("data", (chunk) => upstream.write(chunk));
    upstream.on("data", (chunk) => {
      if (loseNext) {
        loseNext = false;
        lost++;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("no port");
  return {
    port: address.port,
    url: `http://127.0.0.1:${address.port}`,
    loseNextAnswer() {
      loseNext = true;
    },
    lost: () => lost,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
