import type { z } from 'zod';

/**
 * A zod schema compiled into a plain predicate: `true` when zod would accept the value. For
 * events read back from the log (`parseStoredEvent`), where a zod run per value (a payload
 * object, issue bookkeeping and a stripped copy per object) costs more than everything else a
 * replay does with the event.
 *
 * Only what the event schemas use is compiled — objects (unknown keys ignored, as zod strips
 * them; strict objects reject them), strings, numbers, booleans, enums, literals, nullable,
 * optional, arrays, and their checks: lengths, bounds, integer formats, string formats by their
 * pattern; any other check (refinements) runs through its own `_zod.check`, as zod runs it.
 * Anything else (transforms, defaults, unions, coercion, …) makes the compiler give up:
 * `compileCheck` returns null and the caller keeps zod for that schema. The value itself is
 * not copied or changed.
 */
export type StoredCheck = (value: unknown) => boolean;

class Unsupported extends Error {}

/** The predicate of `schema`, or null when it uses something this compiler does not know. */
export function compileCheck(schema: z.ZodType): StoredCheck | null {
  try {
    return compile(schema);
  } catch (error) {
    if (error instanceof Unsupported) return null;
    throw error;
  }
}

// zod 4's internals, read-only: `_zod.def` of a schema and of each of its checks.
interface Def {
  type: string;
  checks?: { _zod: { def: CheckDef; check: (payload: { value: unknown; issues: unknown[] }) => void } }[];
  [key: string]: unknown;
}
interface CheckDef {
  check: string;
  [key: string]: unknown;
}

const defOf = (schema: unknown): Def => {
  const def = (schema as { _zod?: { def?: Def } })._zod?.def;
  if (!def) throw new Unsupported('not a zod 4 schema');
  return def;
};

const all =
  (tests: StoredCheck[]): StoredCheck =>
  (value) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i]!(value)) return false;
    return true;
  };

/** The checks of a schema (`.min`, `.int`, `.refine`, …) as predicates on a value of its type. */
function checksOf(def: Def): StoredCheck[] {
  const tests: StoredCheck[] = [];
  for (const check of def.checks ?? []) {
    const c = check._zod.def;
    // `when`: the length checks run only on values with a length — these are, once their type is checked
    switch (c.check) {
      case 'min_length': {
        const min = c.minimum as number;
        tests.push((v) => (v as { length: number }).length >= min);
        break;
      }
      case 'max_length': {
        const max = c.maximum as number;
        tests.push((v) => (v as { length: number }).length <= max);
        break;
      }
      case 'greater_than': {
        const bound = c.value as number;
        tests.push(c.inclusive ? (v) => (v as number) >= bound : (v) => (v as number) > bound);
        break;
      }
      case 'less_than': {
        const bound = c.value as number;
        tests.push(c.inclusive ? (v) => (v as number) <= bound : (v) => (v as number) < bound);
        break;
      }
      case 'number_format':
        if (c.format !== 'safeint') throw new Unsupported(`number format ${String(c.format)}`);
        tests.push((v) => Number.isSafeInteger(v));
        break;
      case 'string_format': {
        const pattern = c.pattern;
        if (!(pattern instanceof RegExp) || pattern.global || pattern.sticky)
          throw new Unsupported(`string format ${String(c.format)}`);
        tests.push((v) => pattern.test(v as string));
        break;
      }
      case 'overwrite':
        throw new Unsupported('a check that changes the value');
      default: {
        // a refinement (or a check not compiled): run as zod runs it, on the value
        if (c.when !== undefined) throw new Unsupported('conditional check');
        const run = check._zod.check;
        tests.push((value) => {
          const payload = { value, issues: [] as unknown[] };
          run(payload);
          return payload.issues.length === 0 && payload.value === value;
        });
      }
    }
  }
  return tests;
}

function compile(schema: unknown): StoredCheck {
  const def = defOf(schema);
  if (def.coerce) throw new Unsupported('coercion');
  const checks = checksOf(def);
  const withChecks = (base: StoredCheck): StoredCheck => {
    if (checks.length === 0) return base;
    const rest = all(checks);
    return (v) => base(v) && rest(v);
  };
  switch (def.type) {
    case 'string': {
      if (def.format !== undefined) {
        // a string format schema (z.iso.datetime(), …): its pattern
        const pattern = def.pattern;
        if (!(pattern instanceof RegExp) || pattern.global || pattern.sticky)
          throw new Unsupported(`string format ${String(def.format)}`);
        return withChecks((v) => typeof v === 'string' && pattern.test(v));
      }
      return withChecks((v) => typeof v === 'string');
    }
    case 'number':
      // zod 4 numbers are finite
      return withChecks((v) => typeof v === 'number' && Number.isFinite(v));
    case 'boolean':
      return withChecks((v) => typeof v === 'boolean');
    case 'enum': {
      const values = new Set(Object.values(def.entries as Record<string, unknown>));
      return withChecks((v) => values.has(v as string));
    }
    case 'literal': {
      const values = new Set(def.values as unknown[]);
      return withChecks((v) => values.has(v));
    }
    case 'nullable': {
      const inner = compile(def.innerType);
      return withChecks((v) => v === null || inner(v));
    }
    case 'optional': {
      const inner = compile(def.innerType);
      return withChecks((v) => v === undefined || inner(v));
    }
    case 'array': {
      const element = compile(def.element);
      return withChecks((v) => {
        if (!Array.isArray(v)) return false;
        for (let i = 0; i < v.length; i++) if (!element(v[i])) return false;
        return true;
      });
    }
    case 'object': {
      const shape = def.shape as Record<string, unknown>;
      const keys = Object.keys(shape);
      const tests = keys.map((key) => compile(shape[key]));
      let strict = false;
      if (def.catchall !== undefined) {
        const catchall = defOf(def.catchall).type;
        if (catchall === 'never') strict = true;
        else if (catchall !== 'unknown') throw new Unsupported(`object catchall ${catchall}`);
      }
      const known = new Set(keys);
      return withChecks((v) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
        const o = v as Record<string, unknown>;
        for (let i = 0; i < keys.length; i++) if (!tests[i]!(o[keys[i]!])) return false;
        if (strict) for (const key in o) if (!known.has(key)) return false;
        return true;
      });
    }
    default:
      throw new Unsupported(def.type);
  }
}
