import * as v from 'valibot';
import type { Schema } from './contract.ts';
import { AppError, type FieldError } from './errors.ts';

/** valibot issues as `{ path, message }` pairs; the path is dotted (`items.0.qty`). */
export function fieldErrors(issues: readonly v.BaseIssue<unknown>[]): FieldError[] {
  return issues.map((issue) => ({
    path: (issue.path ?? []).map((item) => String(item.key)).join('.'),
    message: issue.message,
  }));
}

/** Parses a value or throws a `validation` AppError naming each bad field. */
export function parseOrThrow<S extends Schema>(
  schema: S,
  value: unknown,
  what = 'request',
): v.InferOutput<S> {
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  // Capped: a small hostile body must not buy a megabyte of error list.
  throw new AppError('validation', `The ${what} is not valid.`, {
    errors: fieldErrors(result.issues).slice(0, maxFieldErrors),
  });
}

const maxFieldErrors = 20;

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const controlChars = /[\u0000-\u001f\u007f]/;

/** A pipe action that carries the JSON Schema keywords it stands for, for the OpenAPI document. */
type Documented<A> = A & { readonly jsonSchema: Record<string, unknown> };

const documented = <A extends object>(action: A, jsonSchema: Record<string, unknown>) =>
  Object.assign(action, { jsonSchema }) as Documented<A>;

/** Length in Unicode code points: what a person counts for "é" or "😀", and what JSON Schema counts. */
function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Text a person typed: well-formed Unicode, no control characters (Postgres rejects NUL). */
export const plainText = (min: number, max: number) =>
  v.pipe(
    v.string(),
    documented(
      v.check((s: string) => codePoints(s) >= min, `must be at least ${min} characters`),
      { minLength: min },
    ),
    documented(
      v.check((s: string) => codePoints(s) <= max, `must be at most ${max} characters`),
      { maxLength: max },
    ),
    v.check((s) => s.isWellFormed(), 'must be well-formed Unicode'),
    v.check((s) => !controlChars.test(s), 'must not contain control characters'),
    v.check((s) => min === 0 || s.trim().length > 0, 'must not be blank'),
  );

/** Integer within bounds, and never a string, a fraction or a float past 2^53. */
export const integer = (min: number, max: number) =>
  v.pipe(
    v.number('must be a number'),
    v.safeInteger('must be an integer'),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
  );

/** A whole number in an answer: documented as `integer` in the OpenAPI document. */
export const whole = v.pipe(v.number(), v.safeInteger());

export const uuid = v.pipe(v.string(), v.uuid('must be a UUID'));

/** For path parameters, where a malformed id is simply not found. */
export const isUuid = (s: string): boolean => v.is(uuid, s);
export const isoTime = v.pipe(v.string(), v.isoTimestamp());
