// vitest's setup file: the test processes load drizzle-orm as the api and the worker do
// (shared/module-resolution.ts), before the test file imports it.
import "../../shared/module-resolution.ts";
