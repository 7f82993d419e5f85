import { UserError, ValidationError } from '../../errors.js';

/*
 * The admin API's request bodies, described once as JSON Schema (the subset the API uses): the router
 * checks every body against its route's schema, and the OpenAPI document publishes the same objects.
 * A body that is not what the schema says is a 400 with a sentence naming the property.
 */

interface Described {
  readonly description: string;
}

export interface StringSchema extends Described {
  readonly type: 'string';
  readonly maxLength: number;
  readonly enum?: readonly string[];
  readonly format?: 'email' | 'uri';
}

export interface BooleanSchema extends Described {
  readonly type: 'boolean';
}

export interface IntegerSchema extends Described {
  readonly type: 'integer';
  readonly minimum: number;
  readonly maximum: number;
}

export interface ArraySchema extends Described {
  readonly type: 'array';
  readonly items: StringSchema;
  readonly maxItems: number;
}

export type PropertySchema = StringSchema | BooleanSchema | IntegerSchema | ArraySchema;

export interface ObjectSchema<P extends Readonly<Record<string, PropertySchema>> = Readonly<Record<string, PropertySchema>>, R extends keyof P & string = keyof P & string> {
  readonly type: 'object';
  readonly properties: P;
  readonly required: readonly R[];
  readonly additionalProperties: false;
}

type ValueOf<S extends PropertySchema> =
  S extends StringSchema ? string
    : S extends BooleanSchema ? boolean
      : S extends IntegerSchema ? number
        : S extends ArraySchema ? string[]
          : never;

/** The body a schema lets through: its required properties, and the others when sent. */
export type BodyOf<S extends ObjectSchema> = S extends ObjectSchema<infer P, infer R>
  ? { readonly [K in R]: ValueOf<P[K]> } & { readonly [K in Exclude<keyof P, R>]?: ValueOf<P[K]> }
  : never;

/** An object schema, with its required properties' names checked against its properties. */
export function objectSchema<P extends Readonly<Record<string, PropertySchema>>, R extends keyof P & string = never>(properties: P, required: readonly R[] = []): ObjectSchema<P, R> {
  return { type: 'object', properties, required, additionalProperties: false };
}

/** The body of a route that takes none: any property sent is refused by name. */
export const NO_BODY = objectSchema({});

const listed = (names: readonly string[]) => names.map((name) => `"${name}"`).join(', ');

function checkProperty(name: string, schema: PropertySchema, value: unknown): void {
  const refuse = (why: string) => new ValidationError(`"${name}" ${why}`, name);
  switch (schema.type) {
    case 'boolean':
      if (typeof value !== 'boolean') throw refuse('must be true or false.');
      return;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < schema.minimum || value > schema.maximum) {
        throw refuse(`must be a whole number from ${schema.minimum} to ${schema.maximum}.`);
      }
      return;
    case 'string':
      if (typeof value !== 'string') throw refuse('must be a string.');
      if (value.length > schema.maxLength) throw refuse(`must have at most ${schema.maxLength} characters.`);
      if (schema.enum && !schema.enum.includes(value)) throw refuse(`must be one of ${listed(schema.enum)}, not "${value.slice(0, 40)}".`);
      return;
    case 'array':
      if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw refuse('must be a list of strings.');
      if (value.length > schema.maxItems) throw refuse(`may list at most ${schema.maxItems} items.`);
      for (const item of value as string[]) if (item.length > schema.items.maxLength) throw refuse(`may hold strings of at most ${schema.items.maxLength} characters.`);
  }
}

/**
 * The body as the schema allows it, or a 400 naming what is wrong: properties the route does not take
 * (`__proto__` and `constructor` included — a JSON body's own keys are all checked), a missing
 * required one, or a value of the wrong kind. Only the schema's properties are copied out.
 */
export function validateBody<S extends ObjectSchema>(schema: S, value: unknown): BodyOf<S> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UserError('The body must be a JSON object.', 400);
  const known = Object.keys(schema.properties);
  const unknown = Object.keys(value).filter((name) => !Object.hasOwn(schema.properties, name));
  if (unknown.length > 0) {
    const takes = known.length === 0 ? 'This endpoint takes no body.' : `This endpoint takes ${listed(known)}.`;
    throw new ValidationError(`Unknown ${unknown.length === 1 ? 'property' : 'properties'} ${listed(unknown)}. ${takes}`, unknown[0]);
  }
  const body: Record<string, unknown> = {};
  for (const name of known) {
    const given = Object.hasOwn(value, name) ? (value as Record<string, unknown>)[name] : undefined;
    if (given === undefined) {
      if ((schema.required as readonly string[]).includes(name)) throw new ValidationError(`"${name}" is required. ${schema.properties[name]!.description}`, name);
      continue;
    }
    checkProperty(name, schema.properties[name]!, given);
    body[name] = given;
  }
  return body as BodyOf<S>;
}
