// The Helm chart, without the helm binary: values.yaml and Chart.yaml parse; every `.Values.x.y`
// a template reads exists in values.yaml; every `include` names a defined template; control blocks
// are balanced; and each template, with its actions blanked out, is YAML with the expected shape.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parse, parseAllDocuments } from 'yaml';
import { repoRoot } from '../support/cli.ts';

const chart = path.join(repoRoot, 'deploy', 'helm', 'custodian');
const templatesDir = path.join(chart, 'templates');
const templateFiles = fs.readdirSync(templatesDir).filter((f) => f.endsWith('.yaml') || f.endsWith('.tpl') || f.endsWith('.txt'));
const read = (file: string) => fs.readFileSync(path.join(templatesDir, file), 'utf8');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Yaml = any;
const values: Yaml = parse(fs.readFileSync(path.join(chart, 'values.yaml'), 'utf8'));

function actions(text: string): string[] {
  return [...text.matchAll(/\{\{-?([\s\S]*?)-?\}\}/g)].map((m) => m[1].trim());
}

function hasPath(object: Yaml, dotted: string): boolean {
  let current = object;
  for (const key of dotted.split('.')) {
    if (current === null || typeof current !== 'object' || !(key in current)) return false;
    current = current[key];
  }
  return true;
}

/**
 * A rough render: control lines and whole-line includes/toYaml disappear, inline actions become a
 * placeholder. What remains must be YAML; it shows indentation and structure mistakes.
 */
function roughRender(text: string): Yaml[] {
  const lines = text.split('\n').filter((line) => {
    const trimmed = line.trim();
    if (/^\{\{-?\s*(if|else|end|with|range|define|\/\*)[\s\S]*\}\}$/.test(trimmed)) return false;
    if (/^\{\{-?\s*(include|toYaml)\b[\s\S]*\|\s*nindent\s+\d+\s*-?\}\}$/.test(trimmed)) return false;
    return true;
  });
  const rendered = lines.join('\n').replace(/\{\{-?[\s\S]*?-?\}\}/g, 'TEMPLATED');
  return parseAllDocuments(rendered).map((doc) => {
    if (doc.errors.length) throw new Error(doc.errors.map((e) => e.message).join('\n'));
    return doc.toJS();
  });
}

function find(kind: string, file: string): Yaml {
  const doc = roughRender(read(file)).find((d) => d?.kind === kind);
  expect(doc, `${kind} in ${file}`).to.not.equal(undefined);
  return doc;
}

describe('deploy/helm/custodian (Helm chart)', () => {
  it('has a v2 Chart.yaml with a version and an appVersion', () => {
    const meta = parse(fs.readFileSync(path.join(chart, 'Chart.yaml'), 'utf8'));
    expect(meta).to.include({ apiVersion: 'v2', name: 'custodian', type: 'application' });
    expect(meta.version).to.match(/^\d+\.\d+\.\d+/);
    expect(meta.appVersion).to.be.a('string');
  });

  it('defaults to several replicas, non-root pods, a shared ReadWriteMany volume and an external database secret', () => {
    expect(values.replicaCount).to.be.greaterThan(1);
    expect(values.jobRole).to.equal('none');
    expect(values.jobs).to.include({ enabled: true, role: 'all' });
    expect(values.podSecurityContext).to.include({ runAsNonRoot: true });
    expect(values.podSecurityContext.runAsUser).to.be.greaterThan(0);
    expect(values.securityContext).to.include({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect(values.securityContext.capabilities.drop).to.deep.equal(['ALL']);
    expect(values.persistence.accessMode).to.equal('ReadWriteMany');
    expect(values.database.existingSecret).to.be.a('string').and.not.equal('');
  });

  it('reads only values that values.yaml defines', () => {
    const missing: string[] = [];
    for (const file of templateFiles) {
      for (const [, dotted] of read(file).matchAll(/\.Values\.([A-Za-z0-9_.]+)/g)) {
        if (!hasPath(values, dotted.replace(/\.$/, ''))) missing.push(`${file}: .Values.${dotted}`);
      }
    }
    expect(missing).to.deep.equal([]);
  });

  it('includes only templates that _helpers.tpl defines, and balances every block', () => {
    const defined = new Set([...read('_helpers.tpl').matchAll(/\{\{-?\s*define\s+"([^"]+)"/g)].map((m) => m[1]));
    for (const file of templateFiles) {
      for (const [, name] of read(file).matchAll(/include\s+"([^"]+)"/g)) expect(defined, `${file} includes ${name}`).to.include(name);
      let depth = 0;
      for (const action of actions(read(file))) {
        if (/^(if|with|range|define)\b/.test(action)) depth++;
        else if (/^end\b/.test(action)) depth--;
        expect(depth, `${file}: an "end" without a block`).to.be.at.least(0);
      }
      expect(depth, `${file}: unclosed block`).to.equal(0);
      expect(read(file).split('{{').length, `${file}: unbalanced braces`).to.equal(read(file).split('}}').length);
    }
  });

  it('renders YAML for every manifest template', () => {
    for (const file of templateFiles.filter((f) => f.endsWith('.yaml'))) {
      expect(() => roughRender(read(file)), file).to.not.throw();
    }
  });

  it('web Deployment: replicas from values, readiness and liveness on /api/v4/system/ping, jobs off, shared folders mounted', () => {
    const deployment = find('Deployment', 'deployment.yaml');
    expect(read('deployment.yaml')).to.match(/replicas: \{\{ \.Values\.replicaCount \}\}/);
    expect(read('deployment.yaml')).to.match(/name: CUSTODIAN_JOB_ROLE\s+value: \{\{ \.Values\.jobRole \| quote \}\}/);
    const helpers = read('_helpers.tpl');
    expect(helpers).to.match(/readinessProbe:\s+httpGet:\s+path: \/api\/v4\/system\/ping/);
    expect(helpers).to.match(/livenessProbe:\s+httpGet:\s+path: \/api\/v4\/system\/ping/);
    for (const folder of ['files', 'keys', 'exports', 'audit']) expect(helpers).to.include(`mountPath: /var/lib/custodian/${folder}\n  subPath: ${folder}`);
    expect(helpers).to.match(/name: DATABASE_URL\s+valueFrom:\s+secretKeyRef:/);
    const container = deployment.spec.template.spec.containers[0];
    expect(container.ports[0]).to.include({ name: 'http', containerPort: 8065 });
    expect(deployment.spec.strategy.rollingUpdate).to.include({ maxUnavailable: 0 });
  });

  it('jobs Deployment: its own CUSTODIAN_JOB_ROLE, outside the Service', () => {
    find('Deployment', 'deployment-jobs.yaml');
    expect(read('deployment-jobs.yaml')).to.match(/name: CUSTODIAN_JOB_ROLE\s+value: \{\{ \.Values\.jobs\.role \| quote \}\}/);
    const service = find('Service', 'service.yaml');
    expect(read('service.yaml')).to.include('app.kubernetes.io/component: web');
    expect(service.spec.ports[0]).to.include({ targetPort: 'http' });
  });

  it('Ingress keeps WebSockets open for an hour and accepts large uploads; the PVC is ReadWriteMany and kept', () => {
    const ingress = find('Ingress', 'ingress.yaml');
    expect(ingress.spec.rules[0].http.paths[0]).to.include({ path: '/', pathType: 'Prefix' });
    const annotations = values.ingress.annotations;
    expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'])).to.be.at.least(3600);
    expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-send-timeout'])).to.be.at.least(3600);
    expect(annotations['nginx.ingress.kubernetes.io/proxy-body-size']).to.match(/^\d+m$/);
    const pvc = find('PersistentVolumeClaim', 'pvc.yaml');
    expect(pvc.metadata.annotations['helm.sh/resource-policy']).to.equal('keep');
    expect(read('pvc.yaml')).to.include('{{ .Values.persistence.accessMode }}');
  });

  it('migrates in a pre-install/pre-upgrade hook Job', () => {
    const job = find('Job', 'migrate-job.yaml');
    expect(job.metadata.annotations['helm.sh/hook']).to.equal('pre-install,pre-upgrade');
    expect(job.spec.template.spec.containers[0].args).to.deep.equal(['migrate']);
  });
});
