#!/usr/bin/env node
// validate-responses.mjs — every response the tests captured agrees with the OpenAPI document.
//
//   node tests/openapi/validate-responses.mjs <capture.jsonl> [document] [--foreign REGEX]
//
// The capture is what tests/support/test_http.c appends when SHOPD_TEST_CAPTURE is set: one
// JSON line {"method","path","status","content_type","headers","body"} per response. For each
// line the request path is matched to the document's path templates and the method to an
// operation; the status must be one the operation documents, the Content-Type one of that
// response's media types, the body must validate against its schema (JSON Schema 2020-12,
// ajv), and each header the response documents must be valid, and present when required. A
// path no template matches must have been answered 404 NOT_FOUND, a documented path with an
// undocumented method 405 METHOD_NOT_ALLOWED (both problem documents). Paths matching
// --foreign (another server the tests talk to with the same client: the fake data platform)
// are skipped. Exits 1 on any mismatch or when nothing was validated, 2 on bad input.
import { readFileSync } from 'node:fs';

import { METHODS, YAML, defaultDocument, requireTool } from './tools.mjs';

const Ajv2020 = requireTool('ajv/dist/2020').default;
const addFormats = requireTool('ajv-formats').default;
const MAX_REPORTED = 40;

function usage(message) {
    console.error(`validate-responses: ${message}`);
    console.error('usage: validate-responses.mjs <capture.jsonl> [document] [--foreign REGEX]');
    process.exit(2);
}

const args = process.argv.slice(2);
let foreign = null;
const positional = [];
for (let i = 0; i < args.length; i++) {
    if (args[i] === '--foreign') {
        if (i + 1 >= args.length)
            usage('--foreign needs a regular expression');
        foreign = new RegExp(args[++i]);
    } else {
        positional.push(args[i]);
    }
}
const [capturePath, docPath = defaultDocument] = positional;
if (!capturePath)
    usage('no capture file');

let doc, captureText;
try {
    doc = YAML.parse(readFileSync(docPath, 'utf8'));
} catch (err) {
    usage(`cannot read ${docPath}: ${err.message}`);
}
try {
    captureText = readFileSync(capturePath, 'utf8');
} catch (err) {
    console.error(`validate-responses: no capture at ${capturePath} (${err.message}): run the ` +
                  'integration and e2e tests with SHOPD_TEST_CAPTURE set first');
    process.exit(1);
}

// ---- the document: path templates, JSON pointers, schemas ----

const DOC_ID = 'https://shopd.invalid/openapi.json';
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addFormat('int64', { type: 'number', validate: (n) => Number.isInteger(n) });
ajv.addFormat('int32', { type: 'number', validate: (n) => Number.isInteger(n) && Math.abs(n) < 2 ** 31 });
ajv.addSchema({ ...doc, $id: DOC_ID });

const pointerEscape = (s) => s.replace(/~/g, '~0').replace(/\//g, '~1');

// Follows a local $ref ('#/components/responses/X'); returns [object, its JSON pointer].
function deref(obj, pointer) {
    for (let guard = 0; obj && obj.$ref && guard < 16; guard++) {
        if (!obj.$ref.startsWith('#/'))
            throw new Error(`only local references are supported: ${obj.$ref}`);
        pointer = obj.$ref.slice(1);
        obj = pointer.split('/').slice(1).reduce(
            (o, k) => (o ? o[k.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined), doc);
    }
    return [obj, pointer];
}

const templates = Object.keys(doc.paths ?? {}).map((template) => {
    const item = doc.paths[template];
    const params = {};
    for (const method of METHODS)
        for (const p of [...(item.parameters ?? []), ...(item[method]?.parameters ?? [])]) {
            const [param] = deref(p, '');
            if (param?.in === 'path')
                params[param.name] = deref(param.schema ?? {}, '')[0];
        }
    let literal = 0;
    const source = template.split(/(\{[^}]+\})/).map((part) => {
        const m = /^\{([^}]+)\}$/.exec(part);
        if (!m) {
            literal += part.length;
            return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        }
        const pattern = params[m[1]]?.pattern; // '^[0-9]{1,32}$' → the segment's own pattern
        return pattern ? `(?:${pattern.replace(/^\^/, '').replace(/\$$/, '')})` : '[^/]+';
    }).join('');
    return { template, item, literal, regex: new RegExp(`^${source}$`) };
});

function matchTemplate(p) {
    const hits = templates.filter((t) => t.regex.test(p));
    hits.sort((a, b) => b.literal - a.literal); // /products/popular before /products/{id}
    return hits[0] ?? null;
}

const validators = new Map();
function validatorAt(pointer) {
    if (!validators.has(pointer))
        validators.set(pointer, ajv.compile({ $ref: `${DOC_ID}#${pointer}` }));
    return validators.get(pointer);
}

const mediaKey = (t) => (t ?? '').toLowerCase().replace(/\s+/g, '');
const isJson = (t) => /^application\/([a-z0-9.+-]*\+)?json(;|$)/.test(mediaKey(t));

// A problem document with exactly this code (for answers no operation documents).
const problemSchema = (code) => ({
    allOf: [{ $ref: `${DOC_ID}#/components/schemas/Problem` }],
    properties: { code: { const: code } },
});
const problemValidators = {
    404: ajv.compile(problemSchema('NOT_FOUND')),
    405: ajv.compile(problemSchema('METHOD_NOT_ALLOWED')),
};

// ---- the capture ----

const failures = [];
const exercised = new Map(); // "METHOD template" → statuses seen
let validated = 0, skipped = 0, lines = 0;

function fail(n, entry, why) {
    failures.push(`line ${n}: ${entry.method} ${entry.path} → ${entry.status} ` +
                  `${entry.content_type ?? '(no Content-Type)'}: ${why}`);
}

function checkBody(n, entry, validate, what) {
    if (entry.method === 'HEAD')
        return; // no body to check: HEAD answers what GET would, without it
    if (entry.body === null)
        return fail(n, entry, 'the body is not UTF-8');
    let value = entry.body;
    if (isJson(entry.content_type)) {
        try {
            value = JSON.parse(entry.body);
        } catch (err) {
            return fail(n, entry, `the body is not JSON (${err.message}): ${entry.body.slice(0, 200)}`);
        }
    }
    if (!validate(value)) {
        const errors = validate.errors.slice(0, 6)
            .map((e) => `${e.instancePath || '/'} ${e.message}${e.params?.allowedValues ? ` ${JSON.stringify(e.params.allowedValues)}` : ''}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ''}${e.params?.unevaluatedProperty ? ` (${e.params.unevaluatedProperty})` : ''}`);
        fail(n, entry, `${what}: ${errors.join('; ')}; body ${entry.body.slice(0, 300)}`);
    }
}

// The response headers the document names: present when required, valid when present.
function checkHeaders(n, entry, response, responsePointer, what) {
    for (const [name, ref] of Object.entries(response?.headers ?? {})) {
        const [header, headerPointer] = deref(ref, `${responsePointer}/headers/${pointerEscape(name)}`);
        const value = entry.headers[name.toLowerCase()];
        if (value === undefined) {
            if (header?.required)
                fail(n, entry, `${what}: header ${name} is required but absent`);
            continue;
        }
        if (!header?.schema)
            continue;
        const [schema] = deref(header.schema, '');
        const typed = schema?.type === 'integer' && /^-?[0-9]+$/.test(value) ? Number(value) : value;
        const validate = validatorAt(`${headerPointer}/schema`);
        if (!validate(typed))
            fail(n, entry, `${what}: header ${name}: ${JSON.stringify(value)} ${validate.errors.map((e) => e.message).join('; ')}`);
    }
}

for (const [i, text] of captureText.split('\n').entries()) {
    if (!text.trim())
        continue;
    lines++;
    const n = i + 1;
    let entry;
    try {
        entry = JSON.parse(text);
    } catch (err) {
        failures.push(`line ${n}: not JSON (${err.message})`);
        continue;
    }
    const target = String(entry.path ?? '');
    const p = target.split('?')[0];
    if (foreign && foreign.test(p)) {
        skipped++;
        continue;
    }
    validated++;
    const t = matchTemplate(p);
    if (!t) {
        if (entry.status !== 404)
            fail(n, entry, 'no path of the document matches, and the answer is not 404');
        else if (!isJson(entry.content_type) || !mediaKey(entry.content_type).startsWith('application/problem+json'))
            fail(n, entry, 'an unknown path must be answered with application/problem+json');
        else
            checkBody(n, entry, problemValidators[404], 'not a NOT_FOUND problem');
        continue;
    }
    const method = entry.method === 'HEAD' && !t.item.head ? 'get' : String(entry.method).toLowerCase();
    const op = t.item[method];
    if (!op) {
        if (entry.status !== 405)
            fail(n, entry, `${t.template} documents no ${entry.method}, and the answer is not 405`);
        else
            checkBody(n, entry, problemValidators[405], 'not a METHOD_NOT_ALLOWED problem');
        continue;
    }
    const key = `${method.toUpperCase()} ${t.template}`;
    if (!exercised.has(key))
        exercised.set(key, new Set());
    exercised.get(key).add(entry.status);
    const opPointer = `/paths/${pointerEscape(t.template)}/${method}`;
    const status = String(entry.status);
    const statusKey = [status, `${status[0]}XX`, 'default'].find((k) => op.responses?.[k]);
    if (!statusKey) {
        fail(n, entry, `${key} does not document status ${status} (documented: ${Object.keys(op.responses ?? {}).join(', ')})`);
        continue;
    }
    const [response, responsePointer] = deref(op.responses[statusKey], `${opPointer}/responses/${statusKey}`);
    if (entry.headers)
        checkHeaders(n, entry, response, responsePointer, `${key} ${statusKey}`);
    const content = response?.content ?? {};
    if (Object.keys(content).length === 0) {
        if (entry.body)
            fail(n, entry, `${key} ${statusKey} documents no body`);
        continue;
    }
    const media = Object.keys(content).find((m) => mediaKey(m) === mediaKey(entry.content_type));
    if (!media) {
        fail(n, entry, `${key} ${statusKey} documents ${Object.keys(content).join(', ')}, not this Content-Type`);
        continue;
    }
    if (!content[media].schema) {
        fail(n, entry, `${key} ${statusKey} ${media} has no schema`);
        continue;
    }
    const schemaPointer = `${responsePointer}/content/${pointerEscape(media)}/schema`;
    checkBody(n, entry, validatorAt(schemaPointer), `does not match ${key} ${statusKey}`);
}

// ---- verdict ----

const operations = templates.flatMap((t) => METHODS.filter((m) => t.item[m]).map((m) => `${m.toUpperCase()} ${t.template}`));
const unexercised = operations.filter((o) => !exercised.has(o));
console.log(`validate-responses: ${lines} captured responses, ${validated} validated, ${skipped} skipped (foreign), ` +
            `${exercised.size}/${operations.length} operations exercised`);
for (const [op, statuses] of [...exercised].sort())
    console.log(`  ${op}: ${[...statuses].sort().join(' ')}`);
if (unexercised.length)
    console.log(`  not exercised by the tests: ${unexercised.join(', ')}`);
if (validated === 0) {
    console.error(`validate-responses: ${capturePath} holds no response to validate: was SHOPD_TEST_CAPTURE set for the tests?`);
    process.exit(1);
}
if (failures.length) {
    for (const f of failures.slice(0, MAX_REPORTED))
        console.error(`validate-responses: ${f}`);
    if (failures.length > MAX_REPORTED)
        console.error(`validate-responses: … and ${failures.length - MAX_REPORTED} more`);
    console.error(`validate-responses: ${failures.length} responses disagree with ${docPath}`);
    process.exit(1);
}
console.log(`validate-responses: every response agrees with ${docPath}`);
