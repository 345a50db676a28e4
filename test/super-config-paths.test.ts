// Relative file paths in the supernode config (EdgeTemplate, HttpTLS.CertFile/KeyFile) are
// relative to the config file's directory, not to the process's current directory (a service
// runs in "/"); one found only relative to the current directory is used with a warning, and an
// unreadable EdgeTemplate is reported at start. docs/config.md, "Supernode config".
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '../ts/config/index.js';
import { exampleEdgeConfig } from '../ts/config/examples.js';
import { resolveConfigPath } from '../ts/super/config-paths.js';
import type { Supernode } from '../ts/super/supernode.js';
import { startFileSupernode, superConfigHead } from './helpers/file-super.js';

const PW = 'add_pw';

function superYaml(extra: string): string {
  return `${superConfigHead('PathSuper')}Passwords:
  AddPeer: ${PW}
${extra}
Peers: []
`;
}

/** An edge template that peer/add can fill in; `marker` shows which file was used. */
const template = (marker: string): string => exampleEdgeConfig().replace(/^NodeName: .*$/m, `NodeName: ${marker}`).replace(/^/, `# template ${marker}\n`);

interface Running {
  sn: Supernode;
  base: string;
  logged: string[];
}

async function start(path: string, opts: { https?: boolean } = {}): Promise<Running> {
  const { sn, base, logged } = await startFileSupernode(path, 'paths-test');
  assert.equal(base.startsWith('https:'), opts.https === true);
  return { sn, base, logged };
}

const addPeer = async (base: string): Promise<{ status: number; text: string }> => {
  const r = await fetch(`${base}/manage/peer/add`, {
    method: 'POST',
    headers: { authorization: `Bearer ${PW}` },
    body: new URLSearchParams({ NodeID: '7', Name: 'edge7', AdditionalCost: '10', PubKey: generateKeyPair().publicKey }),
  });
  return { status: r.status, text: await r.text() };
};

describe('supernode config: relative file paths are relative to the config file', function () {
  this.timeout(20000);
  let dir: string;
  let running: Running | undefined;
  const cwd0 = process.cwd();
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'eg-paths-'));
  });
  afterEach(async () => {
    process.chdir(cwd0);
    await running?.sn.stop();
    running = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('resolveConfigPath: beside the config, else the current directory with a warning, else beside the config', () => {
    const cfgPath = '/etc/eg/super.yaml';
    const at = (exists: string[]) => resolveConfigPath('EdgeTemplate', 'tpl.yaml', cfgPath, (p) => exists.includes(p));
    const here = join(process.cwd(), 'tpl.yaml');
    assert.deepEqual(at(['/etc/eg/tpl.yaml', here]), { path: '/etc/eg/tpl.yaml', how: "relative to the config file's directory" });
    const fallback = at([here]);
    assert.equal(fallback.path, here);
    assert.match(fallback.warning ?? '', /EdgeTemplate tpl\.yaml is not in the config file's directory \(\/etc\/eg\/tpl\.yaml\); using .*tpl\.yaml, relative to the current directory/);
    assert.deepEqual(at([]), { path: '/etc/eg/tpl.yaml', how: "relative to the config file's directory" });
    assert.deepEqual(resolveConfigPath('EdgeTemplate', '/abs/t.yaml', cfgPath, () => false), { path: '/abs/t.yaml', how: 'absolute' });
    assert.equal(resolveConfigPath('EdgeTemplate', 't.yaml', undefined, () => false).path, join(process.cwd(), 't.yaml'));
  });

  it('peer/add reads a relative EdgeTemplate from the config file\'s directory, whatever the current directory', async () => {
    writeFileSync(join(dir, 'EgNet_edge001.yaml'), template('FromConfigDir'));
    const path = join(dir, 'super.yaml');
    writeFileSync(path, superYaml('EdgeTemplate: EgNet_edge001.yaml'));
    process.chdir('/');
    running = await start(path);
    const r = await addPeer(running.base);
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /# template FromConfigDir/);
    assert.deepEqual(running.logged.filter((l) => /EdgeTemplate/.test(l)), []);
  });

  it('a relative EdgeTemplate found only relative to the current directory is used, with a warning naming both paths', async () => {
    const other = join(dir, 'cwd');
    mkdirSync(other);
    writeFileSync(join(other, 'tpl.yaml'), template('FromCwd'));
    mkdirSync(join(dir, 'etc'));
    const path = join(dir, 'etc', 'super.yaml');
    writeFileSync(path, superYaml('EdgeTemplate: tpl.yaml'));
    process.chdir(other);
    running = await start(path);
    const warned = running.logged.filter((l) => /EdgeTemplate tpl\.yaml is not in the config file's directory/.test(l));
    assert.equal(warned.length, 1, running.logged.join(''));
    assert.ok(warned[0].includes(join(dir, 'etc', 'tpl.yaml')) && warned[0].includes(join(other, 'tpl.yaml')), warned[0]);
    const r = await addPeer(running.base);
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /# template FromCwd/);
  });

  it('an EdgeTemplate that cannot be read is reported at start with its resolved path, and peer/add names that path', async () => {
    const path = join(dir, 'super.yaml');
    writeFileSync(path, superYaml('EdgeTemplate: missing.yaml'));
    running = await start(path);
    const want = `EdgeTemplate missing.yaml cannot be read at ${join(dir, 'missing.yaml')} (relative to the config file's directory): ENOENT`;
    assert.ok(running.logged.some((l) => l.includes(want)), running.logged.join(''));
    const r = await addPeer(running.base);
    assert.equal(r.status, 500, r.text);
    assert.ok(r.text.includes(`cannot read EdgeTemplate missing.yaml at ${join(dir, 'missing.yaml')}`), r.text);
  });

  it('relative HttpTLS.CertFile and KeyFile are read from the config file\'s directory', async () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=etherguard-test', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const path = join(dir, 'super.yaml');
    writeFileSync(path, superYaml('HttpTLS:\n  CertFile: cert.pem\n  KeyFile: key.pem'));
    process.chdir('/');
    running = await start(path, { https: true });
  });
});
