#!/usr/bin/env node
// check-routes.mjs — the OpenAPI document and shopd's route table name the same operations.
//
//   node tests/openapi/check-routes.mjs <shopd binary> [document]
//
// Runs `<shopd> --routes` ("METHOD PATTERN" per route of route_specs, src/composition/app.c) and
// compares it with every operation (method + path) of the document (default
// docs/openapi.yaml). Exits 1 naming each route the document lacks and each operation the
// route table lacks, 2 when either cannot be read, 0 when they are equal.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

import { METHODS, YAML, defaultDocument } from './tools.mjs';

function fail(status, message) {
    console.error(`check-routes: ${message}`);
    process.exit(status);
}

const [binary, docPath = defaultDocument] = process.argv.slice(2);
if (!binary)
    fail(2, 'usage: check-routes.mjs <shopd binary> [openapi document]');

let routesText;
try {
    // an empty environment: --routes must not need configuration, a database or Redis
    routesText = execFileSync(binary, ['--routes'], { env: {}, encoding: 'utf8', timeout: 10000 });
} catch (err) {
    fail(2, `${binary} --routes failed: ${err.message}`);
}
const table = new Set();
for (const line of routesText.split('\n').filter(Boolean)) {
    const m = /^([A-Z]+) (\/\S*)$/.exec(line);
    if (!m)
        fail(2, `unexpected --routes line: ${JSON.stringify(line)}`);
    table.add(`${m[1]} ${m[2]}`);
}
if (table.size === 0)
    fail(2, `${binary} --routes printed no route`);

let doc;
try {
    doc = YAML.parse(readFileSync(docPath, 'utf8'));
} catch (err) {
    fail(2, `cannot read ${docPath}: ${err.message}`);
}
const documented = new Set();
for (const [p, item] of Object.entries(doc?.paths ?? {}))
    for (const method of METHODS)
        if (item && item[method])
            documented.add(`${method.toUpperCase()} ${p}`);

const missing = [...table].filter((r) => !documented.has(r));
const extra = [...documented].filter((r) => !table.has(r));
for (const r of missing)
    console.error(`check-routes: route not in ${docPath}: ${r}`);
for (const r of extra)
    console.error(`check-routes: operation of ${docPath} not in the route table: ${r}`);
if (missing.length || extra.length)
    process.exit(1);
console.log(`check-routes: ${table.size} routes, all documented, no other operation`);
