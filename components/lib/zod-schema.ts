/**
 * The schema under zod's wrappers (optional, nullable, default, and a pipe's input side): what a
 * config key's value is checked against. Shared by the config reference generator
 * (scripts/config-reference.ts) and the every-option stack's coverage walk (test/support).
 */
import { z } from "zod";

export function unwrapSchema(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    if (current instanceof z.ZodOptional || current instanceof z.ZodNullable || current instanceof z.ZodDefault) current = current.unwrap() as z.ZodType;
    else if (current instanceof z.ZodPipe) current = current.in as z.ZodType;
    else return current;
  }
}
