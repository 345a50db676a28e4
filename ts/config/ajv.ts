// One ajv instance for both schemas, and the translation of its errors into plain sentences that
// name the key path.
import AjvModule, { type ErrorObject, type JSONSchemaType, type ValidateFunction } from 'ajv';
import { closestKey, describe, type Segment } from './problems.js';
import { WHY } from './schema/common.js';

// ajv ships CommonJS; under NodeNext the class is on `.default`.
const Ajv = AjvModule.default;

const ajv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: true });
ajv.addKeyword(WHY);

export function compile<T>(schema: JSONSchemaType<T>): ValidateFunction<T> {
  return ajv.compile(schema);
}

export interface RawProblem {
  segs: Segment[];
  message: string;
}

/** JSON pointer → segments, using the data to tell array indexes from numeric map keys. */
function pointerToSegs(pointer: string, root: unknown): Segment[] {
  if (pointer === '') return [];
  const segs: Segment[] = [];
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      segs.push(Number(key));
      cur = cur[Number(key)];
    } else {
      segs.push(key);
      cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[key] : undefined;
    }
  }
  return segs;
}

const ARTICLE: Record<string, string> = {
  integer: 'an integer', number: 'a number', string: 'a string', boolean: 'true or false',
  object: 'a mapping of keys', array: 'a list', null: 'empty',
};

function why(e: ErrorObject): string {
  const w = (e.parentSchema as Record<string, unknown> | undefined)?.[WHY];
  return typeof w === 'string' ? ` (${w})` : '';
}

export function translate(errors: readonly ErrorObject[], root: unknown): RawProblem[] {
  const out: RawProblem[] = [];
  for (const e of errors) {
    // propertyNames failures come twice: the inner keyword (tagged with propertyName) and the
    // propertyNames summary; keep only the summary.
    if (e.propertyName !== undefined) continue;
    const segs = pointerToSegs(e.instancePath, root);
    const p = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = String(p.additionalProperty);
        const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
        const hint = closestKey(key, known);
        out.push({ segs: [...segs, key], message: hint ? `unknown key (did you mean ${hint}?)` : 'unknown key' });
        break;
      }
      case 'required':
        out.push({ segs: [...segs, String(p.missingProperty)], message: 'is required but missing' });
        break;
      case 'type': {
        const t = String(p.type).split(',').map((x) => ARTICLE[x] ?? x).join(' or ');
        out.push({ segs, message: `must be ${t}, got ${describe(e.data)}` });
        break;
      }
      case 'minimum':
        out.push({ segs, message: `must be at least ${String(p.limit)}, got ${String(e.data)}${why(e)}` });
        break;
      case 'maximum':
        out.push({ segs, message: `must be at most ${String(p.limit)}, got ${String(e.data)}${why(e)}` });
        break;
      case 'exclusiveMinimum':
        out.push({ segs, message: `must be greater than ${String(p.limit)}, got ${String(e.data)}${why(e)}` });
        break;
      case 'enum': {
        const allowed = (p.allowedValues as unknown[]).filter((v) => v !== '').map((v) => JSON.stringify(v)).join(', ');
        out.push({ segs, message: `must be one of ${allowed}; got ${JSON.stringify(e.data)}` });
        break;
      }
      case 'minLength':
        out.push({ segs, message: p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters long` });
        break;
      case 'maxLength':
        out.push({ segs, message: `must be at most ${String(p.limit)} characters long, got ${String(e.data).length}` });
        break;
      case 'pattern': {
        // A pattern is unreadable as a rule: schemas that use one say in words what it means.
        const w = (e.parentSchema as Record<string, unknown> | undefined)?.[WHY];
        out.push({ segs, message: typeof w === 'string' ? `must be ${w}, got ${JSON.stringify(e.data)}` : (e.message ?? 'fails the pattern rule') });
        break;
      }
      case 'propertyNames':
        out.push({ segs: [...segs, String(p.propertyName)], message: 'key must be a NodeID (a decimal integer)' });
        break;
      default:
        out.push({ segs, message: e.message ?? `fails the ${e.keyword} rule` });
    }
  }
  return out;
}
