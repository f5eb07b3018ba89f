import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { verifyWebhook } from "../sdk/src/index.ts";

/** One POST the demo's receiver got, and whether its Standard Webhooks signature verified. */
export interface ReceivedWebhook {
  id: string;
  type: string;
  operationId: string;
  status: string;
  verified: boolean;
}

export interface DemoReceiver {
  port: number;
  /** Set once the endpoint exists: deliveries are verified with its secret. */
  secret: string | undefined;
  received: ReceivedWebhook[];
  close(): Promise<void>;
}

const bodyOf = async (req: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
};

/**
 * A webhook receiver for `npm run demo`, as a client would write one: it verifies each delivery
 * with the client's `verifyWebhook` (the `standardwebhooks` reference library: webhook-id,
 * webhook-timestamp and webhook-signature over the raw body) and answers 204. It listens on every interface, so that
 * workers in containers can reach it through the host's address.
 */
export async function startDemoReceiver(): Promise<DemoReceiver> {
  const receiver: DemoReceiver = {
    port: 0,
    secret: undefined,
    received: [],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = createServer(async (req, res) => {
    const raw = await bodyOf(req);
    let verified = false;
    let payload: { type?: string; data?: { id?: string; status?: string } } = {};
    try {
      payload = verifyWebhook(receiver.secret ?? "", raw, req.headers);
      verified = true;
    } catch {
      payload = JSON.parse(raw) as typeof payload;
    }
    receiver.received.push({
      id: String(req.headers["webhook-id"]),
      type: payload.type ?? "?",
      operationId: payload.data?.id ?? "?",
      status: payload.data?.status ?? "?",
      verified,
    });
    res.writeHead(verified ? 204 : 400).end();
  });
  await new Promise<void>((resolve) => server.listen(0, resolve));
  receiver.port = (server.address() as AddressInfo).port;
  return receiver;
}
