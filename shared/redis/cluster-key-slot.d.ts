/** The package ioredis itself uses to route a command to its slot; it ships no types. */
declare module "cluster-key-slot" {
  /** The Redis Cluster hash slot (0..16383) of a key, honouring a `{hash tag}` in it. */
  function calculateSlot(key: string): number;
  export = calculateSlot;
}
