/** Who is calling: the operator (ADMIN_TOKEN) or a client (its API key). */
export type Principal = { kind: "admin" } | { kind: "client"; clientId: string };

declare global {
  namespace Express {
    interface Locals {
      requestId: string;
      principal?: Principal;
      /** The mount path of the innermost router the request entered (see mountedRouter). */
      mountPath?: string;
    }
  }
}
