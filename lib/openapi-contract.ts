import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

/**
 * Checks HTTP exchanges against the project's OpenAPI documents (docs/*.openapi.yaml) with standard libraries:
 * @apidevtools/swagger-parser reads and dereferences a document, Ajv validates bodies and headers against its schemas
 * (Ajv reads OpenAPI 3.0's `nullable`). Used by the contract test that watches every exchange of the integration
 * tests (lib/openapi-contract.setup.ts) and by the tests of the checker itself.
 */

/** The API documents, by file name under docs/. */
export const API_DOCUMENTS = ['email-api.openapi.yaml', 'reports-api.openapi.yaml', 'reporting-api.openapi.yaml'];

/** One request and, when answered, its response, as seen on the wire. */
export interface HttpExchange {
  method: string;
  /** The path, without the query string. */
  path: string;
  requestHeaders: Readonly<Record<string, string | undefined>>;
  requestBody?: Buffer;
  status: number;
  responseHeaders: Readonly<Record<string, string | undefined>>;
  responseBody: Buffer;
}

type Schema = Record<string, unknown>;
interface MediaType {
  schema?: Schema;
}
interface HeaderObject {
  required?: boolean;
  schema?: Schema;
}
interface ResponseObject {
  headers?: Record<string, HeaderObject>;
  content?: Record<string, MediaType>;
}
interface ParameterObject {
  name: string;
  in: string;
  required?: boolean;
  schema?: Schema;
}
interface OperationObject {
  parameters?: ParameterObject[];
  requestBody?: { required?: boolean; content?: Record<string, MediaType> };
  responses: Record<string, ResponseObject>;
}
type PathItem = Record<string, OperationObject | ParameterObject[] | undefined> & { parameters?: ParameterObject[] };

// ajv-formats is CommonJS: its default export is the function under a bundler, the module object under Node.
const addFormats = ((addFormatsModule as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv) => Ajv;

/** One API document, ready to check exchanges. */
export class OpenApiContract {
  private readonly ajv = addFormats(new Ajv({ strict: false, allErrors: false }));
  private readonly compiled = new WeakMap<object, ValidateFunction>();
  private readonly paths: { template: string; pattern: RegExp; item: PathItem }[];

  private constructor(
    readonly name: string,
    paths: Record<string, PathItem>,
  ) {
    this.paths = Object.entries(paths).map(([template, item]) => ({
      template,
      pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`),
      item,
    }));
  }

  /** Reads, validates and dereferences a document (a path, or a file name under docs/). */
  static async load(file: string): Promise<OpenApiContract> {
    const path = file.includes('/') ? file : join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', file);
    const api = (await SwaggerParser.validate(path)) as unknown as { paths: Record<string, PathItem> };
    return new OpenApiContract(file, api.paths);
  }

  /** The documented operation of a request, or null when the document has no such path or method. */
  private operation(method: string, path: string): { template: string; op: OperationObject; item: PathItem } | null {
    const hit = this.paths.find((p) => p.pattern.test(path));
    if (!hit) return null;
    const m = method.toLowerCase() === 'head' ? 'get' : method.toLowerCase();
    const op = hit.item[m];
    return op && !Array.isArray(op) ? { template: hit.template, op: op as OperationObject, item: hit.item } : null;
  }

  /** Whether the document has this path at all (any method). */
  covers(path: string): boolean {
    return this.paths.some((p) => p.pattern.test(path));
  }

  private validate(schema: Schema, value: unknown): string | null {
    let fn = this.compiled.get(schema);
    if (!fn) {
      fn = this.ajv.compile(schema);
      this.compiled.set(schema, fn);
    }
    if (fn(value)) return null;
    const e = fn.errors?.[0];
    return e ? `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}` : 'is invalid';
  }

  /** A header's text as its schema's type asks (a number for an integer). */
  private headerValue(schema: Schema | undefined, text: string): unknown {
    const type = schema?.type;
    return (type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
  }

  private checkBody(where: string, content: Record<string, MediaType> | undefined, type: string, body: Buffer) {
    if (!content) return body.length > 0 ? [`${where}: a body, where the document has none`] : [];
    const mediaType = type.split(';')[0]!.trim().toLowerCase();
    const media = content[mediaType];
    if (!media) return [`${where}: content-type "${mediaType}" is not one of ${Object.keys(content).join(', ')}`];
    if (!media.schema || !/json/.test(mediaType)) return [];
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      return [`${where}: the body is not JSON`];
    }
    const problem = this.validate(media.schema, value);
    return problem ? [`${where}: body ${problem}`] : [];
  }

  /**
   * What in a response the document does not allow (empty when it holds), or null when the document does not
   * describe the request's operation (another API's path, or a method the path does not have).
   */
  checkResponse(ex: HttpExchange): string[] | null {
    const found = this.operation(ex.method, ex.path);
    if (!found) return null;
    const where = `${ex.method} ${found.template} ${ex.status}`;
    const responses = found.op.responses;
    const doc = responses[String(ex.status)] ?? responses[`${String(ex.status)[0]}XX`] ?? responses.default;
    if (!doc) return [`${where}: the status is not documented`];
    const problems: string[] = [];
    for (const [name, header] of Object.entries(doc.headers ?? {})) {
      const text = ex.responseHeaders[name.toLowerCase()];
      if (text === undefined) {
        if (header.required) problems.push(`${where}: header ${name} is required`);
        continue;
      }
      const problem = header.schema ? this.validate(header.schema, this.headerValue(header.schema, text)) : null;
      if (problem) problems.push(`${where}: header ${name} ${problem}`);
    }
    if (ex.method.toUpperCase() !== 'HEAD') {
      problems.push(...this.checkBody(where, doc.content, ex.responseHeaders['content-type'] ?? '', ex.responseBody));
    }
    return problems;
  }

  /** What in a request the document does not allow (its header parameters and its body), or null as above. */
  checkRequest(ex: Omit<HttpExchange, 'status' | 'responseHeaders' | 'responseBody'>): string[] | null {
    const found = this.operation(ex.method, ex.path);
    if (!found) return null;
    const where = `${ex.method} ${found.template} request`;
    const problems: string[] = [];
    const params = [...(found.item.parameters ?? []), ...(found.op.parameters ?? [])];
    for (const p of params.filter((x) => x.in === 'header')) {
      const text = ex.requestHeaders[p.name.toLowerCase()];
      if (text === undefined) {
        if (p.required) problems.push(`${where}: header ${p.name} is required`);
        continue;
      }
      const problem = p.schema ? this.validate(p.schema, this.headerValue(p.schema, text)) : null;
      if (problem) problems.push(`${where}: header ${p.name} ${problem}`);
    }
    const body = ex.requestBody ?? Buffer.alloc(0);
    if (found.op.requestBody && body.length === 0) {
      if (found.op.requestBody.required) problems.push(`${where}: a body is required`);
      return problems;
    }
    let plain = body;
    if (ex.requestHeaders['content-encoding'] === 'gzip') {
      try {
        plain = gunzipSync(body);
      } catch {
        return [...problems, `${where}: the body is not gzip`];
      }
    }
    problems.push(
      ...this.checkBody(where, found.op.requestBody?.content, ex.requestHeaders['content-type'] ?? '', plain),
    );
    return problems;
  }
}

/** Every API document, loaded once. */
export async function loadApiContracts(): Promise<OpenApiContract[]> {
  return Promise.all(API_DOCUMENTS.map((f) => OpenApiContract.load(f)));
}
