/**
 * A `format` for every integer of the document, from its bounds: `int32` when both fit in 32
 * bits, else `int64`. A generator for Java, C# or Go reads a bare `integer` as 32 bits, and money
 * here goes to 2^53-1, so the format is not decoration. Every integer of our zod schemas has both
 * bounds (zod's `z.int()` alone is bounded by ±(2^53-1)); an unbounded one gets `int64`.
 */
export function integerFormat({ jsonSchema }: { jsonSchema: Record<string, unknown> }): void {
  const type = jsonSchema.type;
  const isInteger = type === "integer" || (Array.isArray(type) && type.includes("integer"));
  if (!isInteger || jsonSchema.format !== undefined) return;
  const { minimum, maximum } = jsonSchema;
  const fits32 =
    typeof minimum === "number" &&
    typeof maximum === "number" &&
    minimum >= INT32_MIN &&
    maximum <= INT32_MAX;
  jsonSchema.format = fits32 ? "int32" : "int64";
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
