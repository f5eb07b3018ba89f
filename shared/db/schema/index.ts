export * from "./clients.ts";
export * from "./entries.ts";
export * from "./operations.ts";
export * from "./settings.ts";
export * from "./wallets.ts";
