import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import SwaggerParser from '@apidevtools/swagger-parser';
import { describe, expect, it } from 'vitest';

const DOCS = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs');

// The three API contracts, validated as a client generator's team would first check them: YAML that parses, and an
// OpenAPI 3.0 document that the standard validator (@apidevtools/swagger-parser) accepts with no schema error.
describe('the OpenAPI documents validate', () => {
  for (const file of ['email-api.openapi.yaml', 'reports-api.openapi.yaml', 'reporting-api.openapi.yaml']) {
    it(`docs/${file}`, async () => {
      const api = await SwaggerParser.validate(join(DOCS, file));
      expect(api.info.title).toMatch(/\S/);
      expect(Object.keys(api.paths ?? {}).length).toBeGreaterThan(0);
    });
  }
});
