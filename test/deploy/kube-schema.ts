import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './tools.ts';

// Kubernetes objects checked against the API's schemas, strictly: an unknown field is refused
// (as `kubectl apply --validate=strict` and kubeconform -strict do), not only a wrong type or a
// missing required field. Neither kubeconform nor a cluster is reachable here, so two checks
// from the npm packages kubernetes-models and @kubernetes-models/prometheus-operator, both
// generated from the Kubernetes OpenAPI document and the prometheus-operator CRDs:
//
// - types, formats, enums and required fields: the packages' compiled JSON-schema validators
//   (ajv). Their schemas leave objects open (no additionalProperties: false).
// - unknown fields: the packages' TypeScript declarations of the same schemas, one closed
//   interface per object type. Each object is written as an object literal typed with its
//   kind's interface and type-checked with the project's tsc; TypeScript refuses any property
//   a literal's type does not declare, at every depth (excess property checking), while maps
//   (labels, annotations, ConfigMap data) are index signatures and take any key. A field the
//   schema itself leaves free (x-kubernetes-preserve-unknown-fields, e.g. an
//   AlertmanagerConfig's child routes) is typed as free JSON and stays unchecked, as on a cluster.

export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly [field: string]: unknown;
}

/** The module of the packages that declares the object's kind. */
function modelModule(doc: KubeObject): string {
  const [group, version] = doc.apiVersion.includes('/') ? doc.apiVersion.split('/') : ['', doc.apiVersion];
  return group === 'monitoring.coreos.com'
    ? `@kubernetes-models/prometheus-operator/${group}/${version}/${doc.kind}`
    : `kubernetes-models/${group ? `${group}/` : ''}${version}/${doc.kind}`;
}

const label = (doc: KubeObject) => `${doc.kind} ${doc.metadata?.name ?? '(no name)'}`;

/** The JSON-schema validation of one object (types, formats, required fields); '' when valid. */
export async function typeError(doc: KubeObject): Promise<string> {
  const module = (await import(modelModule(doc))) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = module[doc.kind];
  if (!Model) return `${label(doc)}: no schema for ${doc.apiVersion} ${doc.kind}`;
  try {
    new Model(doc).validate();
    return '';
  } catch (error) {
    return `${label(doc)}: ${(error as Error).message.split('\n')[0]}`;
  }
}

/**
 * Every object's fields checked against its kind's declared fields, at every depth: one line
 * per finding, naming the object and the field ('' findings: all known). One tsc run for all.
 */
export function unknownFieldErrors(docs: readonly KubeObject[]): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-kube-schema-'));
  try {
    // The packages resolve from the temporary folder as from the repository.
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    const imports = new Map<string, string>();
    const literals = docs.map((doc, index) => {
      const module = modelModule(doc);
      if (!imports.has(module)) imports.set(module, `K${imports.size}`);
      return `export const object${index}: ${imports.get(module)}.I${doc.kind} = ${JSON.stringify(doc, null, 2)};`;
    });
    const header = [...imports].map(([module, alias]) => `import type * as ${alias} from '${module}';`);
    /** The first line of each object's literal (1-based, as tsc prints them). */
    const starts: { line: number; doc: KubeObject }[] = [];
    let line = header.length + 1;
    literals.forEach((text, index) => {
      starts.push({ line, doc: docs[index]! });
      line += text.split('\n').length;
    });
    fs.writeFileSync(path.join(dir, 'objects.ts'), `${[...header, ...literals].join('\n')}\n`);
    fs.writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2023',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ['objects.ts'],
      }),
    );
    const tsc = path.join(ROOT, 'node_modules', '.bin', 'tsc');
    const result = spawnSync(tsc, ['-p', '.', '--pretty', 'false'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
    if (result.status === 0) return [];
    const findings: string[] = [];
    for (const text of output.split('\n')) {
      const match = /^objects\.ts\((\d+),\d+\): error TS\d+: (.*)$/.exec(text.trim());
      if (!match) continue;
      const at = Number(match[1]);
      const owner = [...starts].reverse().find((start) => start.line <= at);
      findings.push(`${owner ? label(owner.doc) : 'header'}: ${match[2]}`);
    }
    // tsc failed without a finding about an object (it could not run, or an import failed).
    return findings.length > 0 ? findings : [`tsc failed: ${output.trim().slice(0, 2000) || `exit ${result.status}`}`];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
