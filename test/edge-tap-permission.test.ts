// An edge that cannot create its TAP device (run without root or CAP_NET_ADMIN) says why in
// words and exits 1, without claiming it "stopped" (it never started).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../ts/paths.js';
import { isRoot } from './helpers/netns.js';

describe('edge: a TAP device without the privilege to create it', () => {
  it('exits 1 naming root / CAP_NET_ADMIN, and does not log "edge stopped"', function () {
    // Needs an unprivileged user that can read the checkout (a clone under /root cannot be).
    if (!isRoot() || spawnSync('runuser', ['-u', 'nobody', '--', 'test', '-r', join(ROOT, 'dist/main.js')]).status !== 0) this.skip();
    const dir = mkdtempSync(join(tmpdir(), 'eg-tapperm-'));
    try {
      chmodSync(dir, 0o755);
      const example = spawnSync(process.execPath, [join(ROOT, 'dist/main.js'), 'edge', '-example'], { encoding: 'utf8' }).stdout;
      const cfg = join(dir, 'edge.yaml');
      writeFileSync(cfg, example.replace(/Name: tap1/, 'Name: egperm0'));
      chmodSync(cfg, 0o644);
      const r = spawnSync('runuser', ['-u', 'nobody', '--', 'env', `EG_ALLOW_STALE_WASM=${process.env.EG_ALLOW_STALE_WASM ?? ''}`, process.execPath, join(ROOT, 'dist/main.js'), 'edge', '-config', cfg, '-no-uapi'], { encoding: 'utf8', timeout: 30_000 });
      const out = r.stdout + r.stderr;
      assert.equal(r.status, 1, out);
      assert.match(out, /cannot start edge Node01: .*TUNSETIFF on egperm0: .*\(TAP devices need root or the CAP_NET_ADMIN capability\)/, out);
      assert.doesNotMatch(out, /edge stopped/, out);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
