// The route playground in a real headless Chromium (playwright-core), served in-process by
// servePlayground on an ephemeral port. The page is rebuilt first (scripts/build-web.mjs) so
// the test runs the current ts/web sources.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { wasm } from '../ts/core/wasm.js';
import { ROOT } from '../ts/paths.js';
import { servePlayground } from '../ts/webserve/serve.js';
import { matrixText, measuredMatrix, randomMatrix, readMatrix } from '../ts/web/playground/matrix.js';

const EXAMPLE = `X 1   2   3   4   5   6
1 0   0.5 Inf Inf Inf Inf
2 0.5 0   0.5 0.5 Inf Inf
3 Inf 0.5 0   0.5 0.5 Inf
4 Inf 0.5 0.5 0   Inf 0.5
5 Inf Inf 0.5 Inf 0   Inf
6 Inf Inf Inf 0.5 Inf 0
`;

// Reference topology A (upstream §9.2): rows 1..6, columns 1..6, '–' on the diagonal.
const EXPECTED_NEXT = [
  ['–', '2', '2', '2', '2', '2'],
  ['1', '–', '3', '4', '3', '4'],
  ['2', '2', '–', '4', '5', '4'],
  ['2', '2', '3', '–', '3', '6'],
  ['3', '3', '3', '3', '–', '3'],
  ['4', '4', '4', '4', '4', '–'],
];

/** A table with data-src/data-dst cells as rows of cell texts (ids ascending). */
async function readTable(page: Page, id: string): Promise<string[][]> {
  return page.$$eval(`#${id} tbody tr`, (trs) =>
    trs.map((tr) => Array.from(tr.querySelectorAll('td[data-src][data-dst]'), (td) => td.textContent ?? '')),
  );
}

/** `src>dst` of the SVG edges carrying `cls`, sorted. */
async function svgEdges(page: Page, cls: string): Promise<string[]> {
  const e = await page.$$eval(`#graph g.edge.${cls}`, (gs) =>
    gs.map((g) => `${(g as SVGGElement).dataset['src']}>${(g as SVGGElement).dataset['dst']}`),
  );
  return e.sort();
}

describe('route playground (web build of the WASM core, headless Chromium)', function () {
  this.timeout(120_000);
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let url: string;
  const pageErrors: string[] = [];

  before(async () => {
    execFileSync('node', [join(ROOT, 'scripts', 'build-web.mjs')], { cwd: ROOT, stdio: 'pipe' });
    app = Fastify({ logger: false });
    await servePlayground(app, '/playground');
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    assert.ok(addr && typeof addr === 'object');
    url = `http://127.0.0.1:${addr.port}/playground/`;
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1360, height: 1100 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
  });

  after(async () => {
    await browser?.close();
    await app?.close();
  });

  it('redirects the bare prefix to the page', async () => {
    const r = await app.inject({ method: 'GET', url: '/playground' });
    assert.equal(r.statusCode, 302);
    assert.equal(r.headers.location, '/playground/');
    const w = await app.inject({ method: 'GET', url: '/playground/etherguard_wasm_bg.wasm' });
    assert.equal(w.statusCode, 200);
    assert.match(String(w.headers['content-type']), /^application\/wasm/);
  });

  it('loads the WASM module and solves the prefilled 6-node example', async () => {
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
    assert.match(await page.textContent('#engine') ?? '', /etherguard-core .*WASM/);
    assert.equal((await page.inputValue('#matrix')).trim(), EXAMPLE.trim());
    assert.deepEqual(pageErrors, []);
  });

  it('shows the next-hop table of reference topology A', async () => {
    await page.fill('#matrix', EXAMPLE);
    await page.click('#solve');
    assert.deepEqual(await readTable(page, 'nexthop'), EXPECTED_NEXT);
    // Cell addressing is stable: data-src/data-dst on every cell.
    assert.equal(await page.textContent('#nexthop td[data-src="2"][data-dst="5"]'), '3');
    assert.equal(await page.textContent('#nexthop td[data-src="6"][data-dst="1"]'), '4');
    const dist = await readTable(page, 'dist');
    assert.deepEqual(dist[0], ['0', '0.5', '1', '1', '1.5', '1.5']);
    assert.deepEqual(dist[4], ['1.5', '1', '0.5', '1', '0', '1.5']);
  });

  it('highlights the path 1 → 6 as 1, 2, 4, 6 when its cell is clicked', async () => {
    await page.click('#nexthop td[data-src="1"][data-dst="6"]');
    assert.equal(await page.getAttribute('#path-info', 'data-path'), '1,2,4,6');
    assert.match(await page.textContent('#path-info') ?? '', /^1 → 2 → 4 → 6 · cost 1\.5 s/);
    assert.deepEqual(await svgEdges(page, 'on-path'), ['1>2', '2>4', '4>6']);
    assert.equal(await page.inputValue('#path-src'), '1');
    assert.equal(await page.inputValue('#path-dst'), '6');
    // The next-hop cells followed: next[1][6], next[2][6], next[4][6].
    const follow = await page.$$eval('#nexthop td.follow', (tds) =>
      tds.map((td) => `${(td as HTMLElement).dataset['src']}>${(td as HTMLElement).dataset['dst']}`),
    );
    assert.deepEqual(follow.sort(), ['1>6', '2>6', '4>6']);
    // Choosing src/dst with the selects works too: 5 → 6 = [5 3 4 6].
    await page.selectOption('#path-src', '5');
    assert.equal(await page.getAttribute('#path-info', 'data-path'), '5,3,4,6');
    assert.deepEqual(await svgEdges(page, 'on-path'), ['3>4', '4>6', '5>3']);
    await page.click('#nexthop td[data-src="1"][data-dst="6"]');
  });

  it('draws the broadcast tree from node 1 (forwardSet simulation)', async () => {
    await page.selectOption('#bcast-src', '1');
    assert.deepEqual(await svgEdges(page, 'bcast'), ['1>2', '2>3', '2>4', '3>5', '4>6']);
    assert.equal(await page.getAttribute('#bcast-info', 'data-once'), 'true');
    // Clicking a node in the drawing picks the source: from 6 = 6→4, 4→2, 4→3, 2→1, 3→5.
    await page.click('#graph g.node[data-id="6"]');
    assert.equal(await page.inputValue('#bcast-src'), '6');
    assert.deepEqual(await svgEdges(page, 'bcast'), ['2>1', '3>5', '4>2', '4>3', '6>4']);
    await page.selectOption('#bcast-src', '1');
  });

  it('a clock offset changes the measured matrix but not the next-hop table', async () => {
    const before = await readTable(page, 'measured');
    assert.equal(await page.getAttribute('#offset-check', 'data-state'), 'same');
    await page.fill('#off-4', '300');
    const after = await readTable(page, 'measured');
    assert.notDeepEqual(after, before);
    // m(2→4) = 0.5 + 0.3, m(4→2) = 0.5 − 0.3, m(4→6) = 0.5 − 0.3; others untouched.
    assert.equal(await page.textContent('#measured td[data-src="2"][data-dst="4"]'), '0.8');
    assert.equal(await page.textContent('#measured td[data-src="4"][data-dst="2"]'), '0.2');
    assert.equal(await page.textContent('#measured td[data-src="4"][data-dst="6"]'), '0.2');
    assert.equal(await page.textContent('#measured td[data-src="1"][data-dst="2"]'), '0.5');
    assert.equal(await page.$$eval('#measured td.skew', (tds) => tds.length), 6);
    assert.deepEqual(await readTable(page, 'nexthop'), EXPECTED_NEXT);
    assert.equal(await page.getAttribute('#offset-check', 'data-state'), 'same');
    assert.match(await page.textContent('#offset-check') ?? '', /routes unchanged by clock offsets ✓/);
    assert.equal(await page.getAttribute('#path-info', 'data-path'), '1,2,4,6');
    assert.deepEqual(await svgEdges(page, 'bcast'), ['1>2', '2>3', '2>4', '3>5', '4>6']);
    // Large offsets make measured values negative; they are accepted and routes still hold.
    await page.fill('#off-1', '-700');
    await page.fill('#off-5', '450');
    assert.equal(await page.textContent('#measured td[data-src="2"][data-dst="1"]'), '-0.2');
    assert.ok((await page.$$eval('#measured td.neg', (tds) => tds.length)) > 0);
    assert.deepEqual(await readTable(page, 'nexthop'), EXPECTED_NEXT);
    assert.equal(await page.getAttribute('#offset-check', 'data-state'), 'same');
    // The "true" distance view removes the offsets again: 1 → 6 costs 1.5 s.
    await page.selectOption('#dist-mode', 'true');
    assert.equal(await page.textContent('#dist td[data-src="1"][data-dst="6"]'), '1.5');
    await page.selectOption('#dist-mode', 'dist');
    // Measured 1 → 6 = 1.5 + off(6) − off(1) = 1.5 + 0 + 0.7.
    assert.equal(await page.textContent('#dist td[data-src="1"][data-dst="6"]'), '2.2');
  });

  it('AdditionalCost enters setEdge for the destination node (upstream §9.3)', async () => {
    // A=1, B=2, C=3: A→B 1 ms, B→C 2 ms, A→C 4 ms; AC 10 ms everywhere makes A→C direct.
    await page.fill('#matrix', 'X 1 2 3\n1 0 0.001 0.004\n2 Inf 0 0.002\n3 Inf Inf 0\n');
    await page.click('#solve');
    // Offsets of nodes that stay are kept across matrices: clear them (node 1 had −700 ms).
    assert.equal(await page.inputValue('#off-1'), '-700');
    await page.click('#zero-offsets');
    assert.equal(await page.textContent('#nexthop td[data-src="1"][data-dst="3"]'), '2');
    for (const id of [1, 2, 3]) await page.fill(`#ac-${id}`, '10');
    assert.equal(await page.textContent('#nexthop td[data-src="1"][data-dst="3"]'), '3');
    assert.equal(await page.textContent('#dist td[data-src="1"][data-dst="3"]'), '0.014');
    await page.selectOption('#dist-mode', 'noac');
    assert.equal(await page.textContent('#dist td[data-src="1"][data-dst="3"]'), '0.004');
    await page.selectOption('#dist-mode', 'dist');
    for (const id of [1, 2, 3]) await page.fill(`#ac-${id}`, '0');
  });

  it('shows the parser error with its line and column', async () => {
    await page.fill('#matrix', 'X 1 2 3\n1 0 0.5 Inf\n2 0.5 abc 0.5\n3 Inf 0.5 0\n');
    await page.click('#solve');
    assert.equal(await page.isVisible('#error'), true);
    assert.equal(await page.textContent('#error'), "line 3, column 7: expected a number or Inf, found 'abc'");
    // The offending token is selected in the textarea.
    const sel = await page.$eval('#matrix', (t) => {
      const ta = t as HTMLTextAreaElement;
      return ta.value.slice(ta.selectionStart, ta.selectionEnd);
    });
    assert.equal(sel, 'abc');
    await page.fill('#matrix', 'X 1 2\n1 0 0.5\n2 0.5\n');
    await page.click('#solve');
    assert.match(await page.textContent('#error') ?? '', /^line 3, column 6: row 2 has 1 values, expected 2 \(element number mismatch\)$/);
  });

  it('solves a random graph and shows the example again for the screenshot', async () => {
    await page.fill('#rand-n', '12');
    await page.fill('#rand-density', '0.25');
    await page.fill('#rand-seed', '7');
    await page.click('#random');
    assert.equal(await page.isVisible('#error'), false);
    assert.equal(await page.$$eval('#nexthop tbody tr', (trs) => trs.length), 12);
    await page.click('#random-offsets');
    assert.notEqual(await page.getAttribute('#offset-check', 'data-state'), 'changed');

    await page.fill('#matrix', EXAMPLE);
    await page.click('#solve');
    await page.click('#zero-offsets');
    await page.fill('#off-4', '300');
    await page.click('#nexthop td[data-src="1"][data-dst="6"]');
    await page.selectOption('#bcast-src', '1');
    assert.deepEqual(await readTable(page, 'nexthop'), EXPECTED_NEXT);
    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-results', 'playground.png'), fullPage: true });
    assert.deepEqual(pageErrors, []);
  });
});

describe('playground matrix helpers (Node)', () => {
  it('the skew telescopes along every path and keeps missing edges missing', () => {
    const m = readMatrix(EXAMPLE);
    const off = new Map([[4, 300], [1, -700]]);
    const s = measuredMatrix(m, off);
    const at = (mm: typeof m, u: number, v: number): number => mm.w[(u - 1) * 6 + (v - 1)]!;
    assert.ok(Math.abs(at(s, 1, 2) - 1.2) < 1e-12);
    assert.ok(Math.abs(at(s, 2, 4) - 0.8) < 1e-12);
    assert.equal(at(s, 1, 3), Infinity);
    // 1→2→4→6: true 1.5, measured 1.5 + off(6) − off(1) = 2.2.
    assert.ok(Math.abs(at(s, 1, 2) + at(s, 2, 4) + at(s, 4, 6) - 2.2) < 1e-12);
  });

  it('random graphs are valid input for the Rust parser and round-trip through the text', () => {
    const solveText = (t: string): string => wasm().solveMatrixText(t);
    for (const seed of [1, 2, 3]) {
      const m = randomMatrix(9, 0.3, seed);
      const text = matrixText(m);
      assert.match(solveText(text), /^NextHopTable:/);
      assert.deepEqual(readMatrix(text), m);
      // Connected: the spanning tree guarantees every pair a route.
      assert.doesNotMatch(solveText(text), /\{\}/);
    }
    assert.deepEqual(randomMatrix(9, 0.3, 5), randomMatrix(9, 0.3, 5));
  });
});
