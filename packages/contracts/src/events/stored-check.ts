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

/**
 * The predicate is generated as the source of one function (`new Function`): the checks of every
 * field inline, one after the other, each `return false` on the first value zod would refuse. A
 * check the generator has no code for (a refinement) is called as a function from the generated
 * code, as are the patterns (`RegExp`s) and the value sets of large enums. The generated code
 * checks an event in ≈ 0.2–0.3 µs, the same checks as a tree of closures (a call per field and
 * check) took ≈ 0.56 µs, and zod ≈ 1.6–2.3 µs (`pnpm bench:contracts`); a replay checks every
 * event it reads.
 */
class Emitter {
  /** Values the generated code refers to (`x[i]`): patterns, sets, refinements. */
  readonly externals: unknown[] = [];
  private names = 0;

  private name(prefix: string): string {
    return `${prefix}${this.names++}`;
  }

  private external(value: unknown): string {
    this.externals.push(value);
    return `x[${this.externals.length - 1}]`;
  }

  /** Statements that `return false` unless `v` (a variable's name) is a value `schema` accepts. */
  emit(schema: unknown, v: string): string {
    const def = defOf(schema);
    if (def.coerce) throw new Unsupported('coercion');
    const out: string[] = [];
    switch (def.type) {
      case 'string': {
        out.push(`if (typeof ${v} !== 'string') return false;`);
        // a string format schema (z.iso.datetime(), …): its pattern
        if (def.format !== undefined) out.push(this.matches(def.pattern, def.format, v));
        break;
      }
      case 'number':
        // zod 4 numbers are finite
        out.push(`if (typeof ${v} !== 'number' || !Number.isFinite(${v})) return false;`);
        break;
      case 'boolean':
        out.push(`if (typeof ${v} !== 'boolean') return false;`);
        break;
      case 'enum':
      case 'literal': {
        const values =
          def.type === 'enum' ? Object.values(def.entries as Record<string, unknown>) : (def.values as unknown[]);
        const literal = (value: unknown) =>
          typeof value === 'string' ||
          typeof value === 'boolean' ||
          (typeof value === 'number' && Number.isFinite(value))
            ? JSON.stringify(value)
            : value === null
              ? 'null'
              : undefined;
        const literals = values.map(literal);
        if (values.length <= 8 && literals.every((l) => l !== undefined))
          out.push(`if (${literals.map((l) => `${v} !== ${l}`).join(' && ') || 'true'}) return false;`);
        else out.push(`if (!${this.external(new Set(values))}.has(${v})) return false;`);
        break;
      }
      case 'nullable':
      case 'optional': {
        const absent = def.type === 'nullable' ? 'null' : 'undefined';
        out.push(`if (${v} !== ${absent}) {`, this.emit(def.innerType, v), '}');
        break;
      }
      case 'array': {
        const i = this.name('i');
        const e = this.name('e');
        out.push(
          `if (!Array.isArray(${v})) return false;`,
          `for (let ${i} = 0; ${i} < ${v}.length; ${i}++) {`,
          `const ${e} = ${v}[${i}];`,
          this.emit(def.element, e),
          '}',
        );
        break;
      }
      case 'object': {
        const shape = def.shape as Record<string, unknown>;
        const keys = Object.keys(shape);
        let strict = false;
        if (def.catchall !== undefined) {
          const catchall = defOf(def.catchall).type;
          if (catchall === 'never') strict = true;
          else if (catchall !== 'unknown') throw new Unsupported(`object catchall ${catchall}`);
        }
        out.push(`if (typeof ${v} !== 'object' || ${v} === null || Array.isArray(${v})) return false;`);
        for (const key of keys) {
          const field = this.name('f');
          out.push(`const ${field} = ${v}[${JSON.stringify(key)}];`, this.emit(shape[key], field));
        }
        if (strict) {
          const k = this.name('k');
          out.push(`for (const ${k} in ${v}) if (!${this.external(new Set(keys))}.has(${k})) return false;`);
        }
        break;
      }
      default:
        throw new Unsupported(def.type);
    }
    out.push(...this.checks(def, v));
    return out.join('\n');
  }

  /** `return false` unless the string `v` matches the pattern of a string format. */
  private matches(pattern: unknown, format: unknown, v: string): string {
    if (!(pattern instanceof RegExp) || pattern.global || pattern.sticky)
      throw new Unsupported(`string format ${String(format)}`);
    return `if (!${this.external(pattern)}.test(${v})) return false;`;
  }

  /** The checks of a schema (`.min`, `.int`, `.refine`, …) on a value already known to be of its type. */
  private checks(def: Def, v: string): string[] {
    const out: string[] = [];
    for (const check of def.checks ?? []) {
      const c = check._zod.def;
      // `when`: the length checks run only on values with a length — these are, once their type is checked
      switch (c.check) {
        case 'min_length':
          out.push(`if (${v}.length < ${number(c.minimum)}) return false;`);
          break;
        case 'max_length':
          out.push(`if (${v}.length > ${number(c.maximum)}) return false;`);
          break;
        case 'greater_than':
          out.push(`if (!(${v} ${c.inclusive ? '>=' : '>'} ${number(c.value)})) return false;`);
          break;
        case 'less_than':
          out.push(`if (!(${v} ${c.inclusive ? '<=' : '<'} ${number(c.value)})) return false;`);
          break;
        case 'number_format':
          if (c.format !== 'safeint') throw new Unsupported(`number format ${String(c.format)}`);
          out.push(`if (!Number.isSafeInteger(${v})) return false;`);
          break;
        case 'string_format':
          out.push(this.matches(c.pattern, c.format, v));
          break;
        case 'overwrite':
          throw new Unsupported('a check that changes the value');
        default: {
          // a refinement (or a check not compiled): run as zod runs it, on the value
          if (c.when !== undefined) throw new Unsupported('conditional check');
          const run = check._zod.check;
          const refinement = (value: unknown) => {
            const payload = { value, issues: [] as unknown[] };
            run(payload);
            return payload.issues.length === 0 && payload.value === value;
          };
          out.push(`if (!${this.external(refinement)}(${v})) return false;`);
        }
      }
    }
    return out;
  }
}

/** A bound of a check as a number literal of the generated code. */
function number(value: unknown): string {
  if (typeof value === 'number' && !Number.isNaN(value))
    return Number.isFinite(value) ? String(value) : value > 0 ? 'Infinity' : '-Infinity';
  if (typeof value === 'bigint') throw new Unsupported('bigint bound');
  throw new Unsupported(`bound ${String(value)}`);
}

function compile(schema: unknown): StoredCheck {
  const emitter = new Emitter();
  const body = emitter.emit(schema, 'v');
  const make = new Function('x', `return function storedCheck(v) {\n${body}\nreturn true;\n};`) as (
    externals: unknown[],
  ) => StoredCheck;
  return make(emitter.externals);
}
