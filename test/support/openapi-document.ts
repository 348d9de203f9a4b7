/**
 * The served OpenAPI document as the bad-input fuzzer reads it (test/support/openapi-fuzz.ts): its
 * operations with their security, parameters and body schemas, `$ref` and `allOf` resolved.
 */
export type Security = 'tenant' | 'admin' | 'webhook' | 'none';

export interface JsonSchema {
  type?: string;
  format?: string;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  maxLength?: number;
  minLength?: number;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  nullable?: boolean;
  $ref?: string;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  additionalProperties?: boolean | JsonSchema;
}

export interface QueryParam {
  name: string;
  required: boolean;
  schema: JsonSchema;
}

export interface Operation {
  /** `METHOD /path/{template}` */
  key: string;
  method: string;
  path: string;
  pathParams: string[];
  queryParams: QueryParam[];
  /** The JSON request body schema (resolved), if the operation documents one. */
  body?: JsonSchema;
  bodyContentTypes: string[];
  security: Security;
}

type Doc = {
  paths: Record<string, Record<string, any>>;
  components?: { schemas?: Record<string, JsonSchema> };
  security?: Array<Record<string, string[]>>;
};

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Resolves `$ref` and `allOf` (depth-limited) so generators see plain schemas. */
export function resolveSchema(schema: JsonSchema | undefined, doc: Doc, depth = 0): JsonSchema | undefined {
  if (!schema || depth > 8) return schema;
  if (schema.$ref) {
    const name = schema.$ref.replace(/^#\/components\/schemas\//, '');
    return resolveSchema(doc.components?.schemas?.[name], doc, depth + 1);
  }
  if (schema.allOf) {
    const parts = schema.allOf.map((s) => resolveSchema(s, doc, depth + 1) ?? {});
    return {
      type: 'object',
      properties: Object.assign({}, ...parts.map((p) => p.properties ?? {})),
      required: parts.flatMap((p) => p.required ?? []),
    };
  }
  const out: JsonSchema = { ...schema };
  if (schema.properties) {
    out.properties = Object.fromEntries(
      Object.entries(schema.properties).map(([k, v]) => [k, resolveSchema(v, doc, depth + 1) ?? {}]),
    );
  }
  if (schema.items) out.items = resolveSchema(schema.items, doc, depth + 1);
  if (schema.oneOf) out.oneOf = schema.oneOf.map((s) => resolveSchema(s, doc, depth + 1) ?? {});
  return out;
}

export function operationsOf(doc: Doc): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const params: any[] = [...(item.parameters ?? []), ...(op.parameters ?? [])];
      const security = (op.security ?? doc.security ?? []) as Array<Record<string, string[]>>;
      const schemes = security.flatMap((s) => Object.keys(s));
      const content: Record<string, { schema?: JsonSchema }> = op.requestBody?.content ?? {};
      const jsonType = Object.keys(content).find((t) => /json/.test(t));
      ops.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        pathParams: [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]),
        queryParams: params
          .filter((p) => p.in === 'query')
          .map((p) => ({ name: p.name, required: !!p.required, schema: resolveSchema(p.schema, doc) ?? {} })),
        body: jsonType ? resolveSchema(content[jsonType].schema, doc) : undefined,
        bodyContentTypes: Object.keys(content),
        security: schemes.includes('admin')
          ? 'admin'
          : schemes.includes('webhook')
            ? 'webhook'
            : schemes.includes('tenant') || schemes.includes('bearer')
              ? 'tenant'
              : 'none',
      });
    }
  }
  return ops;
}
