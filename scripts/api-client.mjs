// The dashboard's typed client: client/openapi.json (the OpenAPI document) and client/schema.d.ts (types
// generated from it by openapi-typescript, used with openapi-fetch through client/index.ts).
//
//   npm run build && npm run client:generate   writes both from the built app (no database or Redis needed)
//   node scripts/api-client.mjs --check <url>  regenerates both from the document a running app serves at
//                                              <url>/api/docs-json and fails if the committed files differ
//                                              (test/api-document.e2e-spec.ts runs this in `npm test`)
import 'reflect-metadata';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';

const DOCUMENT_FILE = 'client/openapi.json';
const TYPES_FILE = 'client/schema.d.ts';

const serialize = (document) => `${JSON.stringify(document, null, 2)}\n`;

async function types(document) {
  return `${COMMENT_HEADER}// Generated from ${DOCUMENT_FILE} by \`npm run client:generate\`; do not edit.\n\n${astToString(await openapiTS(document))}`;
}

/** The document of the built app, made without connecting anywhere (Nest's preview mode builds no providers). */
async function documentOfBuild() {
  if (!existsSync('dist/src/app.module.js')) throw new Error('dist/ is missing: run `npm run build` first');
  // The document does not depend on configuration; development settings avoid the production checks.
  process.env.NODE_ENV = 'development';
  const { NestFactory } = await import('@nestjs/core');
  const { AppModule } = await import('../dist/src/app.module.js');
  const { createOpenApiDocument } = await import('../dist/src/openapi/openapi-document.js');
  const app = await NestFactory.create(AppModule.forRole('api'), { preview: true, logger: false, abortOnError: false });
  try {
    return createOpenApiDocument(app);
  } finally {
    await app.close();
  }
}

async function check(baseUrl) {
  const res = await fetch(`${baseUrl.replace(/\/+$/, '')}/api/docs-json`);
  if (!res.ok) throw new Error(`GET ${baseUrl}/api/docs-json → ${res.status}`);
  const document = await res.json();
  const stale = [
    [DOCUMENT_FILE, serialize(document)],
    [TYPES_FILE, await types(document)],
  ].filter(([file, expected]) => !existsSync(file) || readFileSync(file, 'utf8') !== expected);
  if (stale.length > 0) {
    const [file, expected] = stale[0];
    const actual = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
    const line = expected.split('\n').findIndex((l, i) => l !== actual[i]);
    console.error(
      `${stale.map(([f]) => f).join(' and ')} differ from the running app's document ` +
        `(first difference in ${file} at line ${line + 1}: expected ${JSON.stringify(expected.split('\n')[line])}, ` +
        `committed ${JSON.stringify(actual[line])}). Run \`npm run build && npm run client:generate\` and commit the result.`,
    );
    process.exit(1);
  }
  console.log(`${DOCUMENT_FILE} and ${TYPES_FILE} match the document served at ${baseUrl}`);
}

const [mode, url] = process.argv.slice(2);
if (mode === '--check') {
  await check(url);
} else {
  const document = await documentOfBuild();
  writeFileSync(DOCUMENT_FILE, serialize(document));
  writeFileSync(TYPES_FILE, await types(document));
  console.log(`wrote ${DOCUMENT_FILE} (${Object.keys(document.paths).length} paths) and ${TYPES_FILE}`);
}
