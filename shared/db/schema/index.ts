export * from "./clients.ts";
export * from "./entries.ts";
export * from "./operations.ts";
export * from "./settings.ts";
export * from "./wallets.ts";
export * from "./webhook-attempts.ts";
export * from "./webhook-deliveries.ts";
export * from "./webhook-endpoints.ts";
