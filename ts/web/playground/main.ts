// The route-solver playground: wires the page to the WASM route engine (web build).
import init, { coreVersion, exampleMatrix, simd128, solveMatrixJson } from 'etherguard-wasm';
import { drawGraph, highlight } from './draw.js';
import {
  errorPosition,
  fmtNum,
  matrixText,
  measuredMatrix,
  offsetOf,
  randomMatrix,
  readMatrix,
  type Matrix,
} from './matrix.js';
import { broadcast, INVALID, nextHopDiff, path, routeCost, solve, type Solved } from './routes.js';

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  return e as T;
}

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Tolerance when deciding that two routes have the same true cost (seconds). */
const SAME_COST = 1e-6;

interface State {
  truth: Matrix | null;
  measured: Matrix | null;
  /** Solve of the true matrix (every offset 0), same AdditionalCost. */
  base: Solved | null;
  /** Solve of the measured matrix: what the page shows. */
  cur: Solved | null;
  ac: Map<number, number>;
  off: Map<number, number>;
  pathSrc: number;
  pathDst: number;
  bcastSrc: number;
  drawn: { edges: number; allDrawn: boolean };
}

const st: State = {
  truth: null,
  measured: null,
  base: null,
  cur: null,
  ac: new Map(),
  off: new Map(),
  pathSrc: INVALID,
  pathDst: INVALID,
  bcastSrc: INVALID,
  drawn: { edges: 0, allDrawn: true },
};

const ui = {
  matrix: $<HTMLTextAreaElement>('matrix'),
  error: $('error'),
  results: $('results'),
  nodeParams: $<HTMLTableSectionElement>('node-params-body'),
  check: $('offset-check'),
  pathSrc: $<HTMLSelectElement>('path-src'),
  pathDst: $<HTMLSelectElement>('path-dst'),
  pathInfo: $('path-info'),
  bcastSrc: $<HTMLSelectElement>('bcast-src'),
  bcastInfo: $('bcast-info'),
  graph: document.getElementById('graph') as unknown as SVGSVGElement,
  nexthop: $<HTMLTableElement>('nexthop'),
  dist: $<HTMLTableElement>('dist'),
  distMode: $<HTMLSelectElement>('dist-mode'),
  measured: $<HTMLTableElement>('measured'),
  measuredText: $<HTMLPreElement>('measured-text'),
  measuredDetails: $<HTMLDetailsElement>('measured-details'),
  solutionText: $<HTMLPreElement>('solution-text'),
  solutionDetails: $<HTMLDetailsElement>('solution-details'),
  stats: $('stats'),
};

// ---------------------------------------------------------------------------------------------
// Errors

function showError(msg: string): void {
  ui.error.textContent = msg;
  ui.error.hidden = false;
  ui.results.classList.add('stale');
}

function clearError(): void {
  ui.error.textContent = '';
  ui.error.hidden = true;
  ui.results.classList.remove('stale');
}

/** Shows a parser error and selects the offending spot in the textarea. */
function showParseError(msg: string): void {
  showError(msg);
  const pos = errorPosition(msg);
  if (!pos) return;
  const text = ui.matrix.value;
  const start = offsetOf(text, pos.line, pos.column);
  let end = start;
  while (end < text.length && !/\s/u.test(text[end]!)) end++;
  ui.matrix.setSelectionRange(start, Math.max(end, start));
}

// ---------------------------------------------------------------------------------------------
// Solving

function replace(old: Solved | null, next: Solved): Solved {
  old?.graph.free();
  return next;
}

/** Parses the textarea (Rust parser first, for its line/column errors) and solves. */
function solveFromText(): boolean {
  const text = ui.matrix.value;
  try {
    solveMatrixJson(text);
  } catch (e) {
    showParseError(message(e));
    return false;
  }
  let m: Matrix;
  try {
    m = readMatrix(text);
  } catch (e) {
    showError(message(e));
    return false;
  }
  st.truth = m;
  buildNodeParams(m.ids);
  fillSelect(ui.pathSrc, m.ids);
  fillSelect(ui.pathDst, m.ids);
  fillSelect(ui.bcastSrc, m.ids);
  if (!m.ids.includes(st.pathSrc)) st.pathSrc = m.ids[0]!;
  if (!m.ids.includes(st.pathDst) || st.pathDst === st.pathSrc) st.pathDst = m.ids[m.ids.length - 1]!;
  if (!m.ids.includes(st.bcastSrc)) st.bcastSrc = m.ids[0]!;
  return recomputeAll();
}

/** Re-solves both the zero-offset baseline and the measured matrix (AC or matrix changed). */
function recomputeAll(): boolean {
  if (!st.truth) return false;
  try {
    st.base = replace(st.base, solve(st.truth, st.ac));
  } catch (e) {
    showError(message(e));
    return false;
  }
  return recomputeMeasured();
}

/** Re-solves the measured matrix only (an offset changed) and redraws. */
function recomputeMeasured(): boolean {
  if (!st.truth) return false;
  st.measured = measuredMatrix(st.truth, st.off);
  try {
    st.cur = replace(st.cur, solve(st.measured, st.ac));
  } catch (e) {
    showError(message(e));
    return false;
  }
  clearError();
  st.drawn = drawGraph(ui.graph, st.measured);
  renderAll();
  return true;
}

// ---------------------------------------------------------------------------------------------
// Node parameters (AdditionalCost, clock offset)

function numberInput(cls: string, id: number, value: number, step: string): HTMLInputElement {
  const i = h('input', { type: 'number', step, class: cls, id: `${cls}-${id}`, 'data-node': id });
  i.value = String(value);
  return i;
}

function buildNodeParams(ids: number[]): void {
  // Keep the values of nodes that stay; drop the others.
  for (const map of [st.ac, st.off]) {
    for (const id of [...map.keys()]) if (!ids.includes(id)) map.delete(id);
  }
  const rows = ids.map((id) => {
    const tr = h('tr', { 'data-node': id });
    tr.append(h('th', { scope: 'row' }, String(id)));
    const ac = h('td');
    ac.append(numberInput('ac', id, st.ac.get(id) ?? 0, '1'));
    const off = h('td');
    off.append(numberInput('off', id, st.off.get(id) ?? 0, '10'));
    tr.append(ac, off);
    return tr;
  });
  ui.nodeParams.replaceChildren(...rows);
}

function readInput(i: HTMLInputElement): number {
  const v = i.valueAsNumber;
  return Number.isFinite(v) ? v : 0;
}

ui.nodeParams.addEventListener('input', (ev) => {
  const t = ev.target;
  if (!(t instanceof HTMLInputElement)) return;
  const id = Number(t.dataset['node']);
  if (t.classList.contains('off')) {
    st.off.set(id, readInput(t));
    recomputeMeasured();
  } else if (t.classList.contains('ac')) {
    st.ac.set(id, Math.max(0, readInput(t)));
    recomputeAll();
  }
});

function setAllOffsets(f: (id: number) => number): void {
  if (!st.truth) return;
  for (const id of st.truth.ids) {
    const v = f(id);
    st.off.set(id, v);
    const i = document.getElementById(`off-${id}`) as HTMLInputElement | null;
    if (i) i.value = String(v);
  }
  recomputeMeasured();
}

// ---------------------------------------------------------------------------------------------
// Rendering

function fillSelect(sel: HTMLSelectElement, ids: number[]): void {
  sel.replaceChildren(...ids.map((id) => h('option', { value: id }, String(id))));
}

/** An n*n table with `data-src`/`data-dst` cells; `cell` gives text and extra classes. */
function renderTable(
  table: HTMLTableElement,
  ids: number[],
  cell: (i: number, j: number) => { text: string; cls?: string[]; title?: string },
): void {
  const head = h('tr');
  head.append(h('th', { class: 'corner', title: 'row = source, column = destination' }, 'src \\ dst'));
  for (const id of ids) head.append(h('th', { scope: 'col' }, String(id)));
  const thead = h('thead');
  thead.append(head);
  const tbody = h('tbody');
  ids.forEach((src, i) => {
    const tr = h('tr', { 'data-src': src });
    tr.append(h('th', { scope: 'row' }, String(src)));
    ids.forEach((dst, j) => {
      const c = cell(i, j);
      const td = h('td', { 'data-src': src, 'data-dst': dst }, c.text);
      if (c.cls?.length) td.classList.add(...c.cls);
      if (c.title) td.title = c.title;
      tr.append(td);
    });
    tbody.append(tr);
  });
  table.replaceChildren(thead, tbody);
}

function renderAll(): void {
  const s = st.cur!;
  const base = st.base!;
  const truth = st.truth!;
  const meas = st.measured!;
  const n = s.ids.length;
  const diff = new Set(nextHopDiff(s, base).map(([a, b]) => `${a}>${b}`));

  renderTable(ui.nexthop, s.ids, (i, j) => {
    if (i === j) return { text: '–', cls: ['diag'] };
    const v = s.next[i * n + j]!;
    const cls = v === INVALID ? ['none'] : [];
    if (diff.has(`${s.ids[i]}>${s.ids[j]}`)) cls.push('diff');
    return { text: v === INVALID ? '∅' : String(v), cls };
  });

  renderDist();

  renderTable(ui.measured, truth.ids, (i, j) => {
    if (i === j) return { text: '–', cls: ['diag'] };
    const m = meas.w[i * n + j]!;
    const t = truth.w[i * n + j]!;
    if (!Number.isFinite(m)) return { text: '∞', cls: ['none'] };
    const cls: string[] = [];
    if (m !== t) cls.push('skew');
    if (m < 0) cls.push('neg');
    return { text: fmtNum(m), cls, title: `true ${fmtNum(t)} s, measured ${fmtNum(m)} s` };
  });
  renderDetails();

  renderOffsetCheck(diff.size);
  ui.stats.textContent =
    `${n} nodes, ${st.drawn.edges} directed edges, solved in ${s.solveMs.toFixed(2)} ms` +
    (st.drawn.allDrawn ? '' : ' — too many edges to draw: only the highlighted ones are shown');
  ui.pathSrc.value = String(st.pathSrc);
  ui.pathDst.value = String(st.pathDst);
  ui.bcastSrc.value = String(st.bcastSrc);
  renderSelection();
}

/** The two text dumps, only while their <details> is open (they are large for big graphs). */
function renderDetails(): void {
  if (!st.cur || !st.measured) return;
  ui.measuredText.textContent = ui.measuredDetails.open ? matrixText(st.measured) : '';
  ui.solutionText.textContent = ui.solutionDetails.open ? st.cur.graph.solutionText() : '';
}

function renderDist(): void {
  const s = st.cur!;
  const n = s.ids.length;
  const mode = ui.distMode.value;
  const off = s.ids.map((id) => (st.off.get(id) ?? 0) / 1000);
  renderTable(ui.dist, s.ids, (i, j) => {
    if (i === j) return { text: '0', cls: ['diag'] };
    let v = mode === 'noac' ? s.distNoAc[i * n + j]! : s.dist[i * n + j]!;
    // The measured cost of any s->t route is its true cost + off(t) - off(s).
    if (mode === 'true') v -= off[j]! - off[i]!;
    if (!Number.isFinite(v)) return { text: '∞', cls: ['none'] };
    return { text: fmtNum(v), cls: v < 0 ? ['neg'] : [] };
  });
}

function renderOffsetCheck(differing: number): void {
  const s = st.cur!;
  const base = st.base!;
  const maxOff = Math.max(0, ...[...st.off.values()].map(Math.abs));
  let state: 'same' | 'ties' | 'changed';
  let text: string;
  if (differing === 0) {
    state = 'same';
    text = `routes unchanged by clock offsets ✓ (next-hop table identical to the zero-offset solve; largest |offset| ${maxOff} ms)`;
  } else {
    // Every differing route must still be optimal on the true matrix: a tie broken differently
    // because the skewed weights round to the tick grid differently.
    const n = s.ids.length;
    let worse = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (i === j || s.next[i * n + j] === base.next[i * n + j]) continue;
        const p = path(s, s.ids[i]!, s.ids[j]!);
        const c = p.length ? routeCost(st.truth!, st.ac, p) : Infinity;
        if (!(Math.abs(c - base.dist[i * n + j]!) <= SAME_COST)) worse++;
      }
    }
    if (worse === 0) {
      state = 'ties';
      text = `next hops differ on ${differing} pair(s), all between routes of equal true cost (a tie rounded differently) ≈`;
    } else {
      state = 'changed';
      text = `routes changed by clock offsets ✗ (${worse} pair(s) no longer optimal)`;
    }
  }
  ui.check.textContent = text;
  ui.check.dataset['state'] = state;
}

function renderSelection(): void {
  const s = st.cur;
  if (!s) return;
  const n = s.ids.length;
  const index = new Map(s.ids.map((id, i) => [id, i]));
  const p = st.pathSrc === st.pathDst ? [st.pathSrc] : path(s, st.pathSrc, st.pathDst);
  const i = index.get(st.pathSrc);
  const j = index.get(st.pathDst);
  ui.pathInfo.dataset['path'] = p.join(',');
  if (st.pathSrc === st.pathDst) {
    ui.pathInfo.textContent = `${st.pathSrc} is the destination itself`;
  } else if (p.length === 0 || i === undefined || j === undefined) {
    ui.pathInfo.textContent = `no route from ${st.pathSrc} to ${st.pathDst}`;
  } else {
    const k = i * n + j;
    const trueCost = routeCost(st.truth!, st.ac, p);
    ui.pathInfo.textContent =
      `${p.join(' → ')} · cost ${fmtNum(s.dist[k]!)} s (latency only ${fmtNum(s.distNoAc[k]!)} s; ` +
      `true cost ${fmtNum(trueCost)} s)`;
  }

  // Cells along the path in the next-hop table: following next[.][dst].
  const onPath = new Set<string>();
  for (let k = 0; k + 1 < p.length; k++) onPath.add(`${p[k]}>${st.pathDst}`);
  for (const table of [ui.nexthop, ui.dist, ui.measured]) {
    table.querySelectorAll<HTMLTableCellElement>('td').forEach((td) => {
      const key = `${td.dataset['src']}>${td.dataset['dst']}`;
      const src = Number(td.dataset['src']);
      const dst = Number(td.dataset['dst']);
      td.classList.toggle('sel', src === st.pathSrc && dst === st.pathDst);
      td.classList.toggle('follow', table === ui.nexthop && onPath.has(key));
      td.classList.toggle(
        'route-edge',
        table === ui.measured && p.some((v, k) => k > 0 && p[k - 1] === src && v === dst),
      );
    });
  }

  const b = broadcast(s, st.bcastSrc);
  ui.bcastInfo.dataset['edges'] = b.edges.map(([a, c]) => `${a}-${c}`).join(',');
  const reached = [...b.received.keys()].length;
  const reachable = s.ids.filter((id, k) => id === st.bcastSrc || s.next[index.get(st.bcastSrc)! * n + k] !== INVALID).length;
  const once = [...b.received.values()].every((c) => c === 1) && reached === reachable;
  ui.bcastInfo.textContent =
    `from ${st.bcastSrc}: ${b.edges.map(([a, c]) => `${a}→${c}`).join(', ') || '(no neighbours)'} — ` +
    (once
      ? `each of the ${reachable} reachable nodes receives it exactly once ✓`
      : `copies received: ${[...b.received].map(([id, c]) => `${id}×${c}`).join(' ')} ✗`);
  ui.bcastInfo.dataset['once'] = String(once);

  highlight(ui.graph, {
    path: p.length > 1 ? p : [],
    pathSrc: st.pathSrc,
    pathDst: st.pathDst,
    bcastSrc: st.bcastSrc,
    bcastEdges: b.edges,
  });
}

// ---------------------------------------------------------------------------------------------
// Events

function selectPair(src: number, dst: number): void {
  if (!st.cur || !st.cur.ids.includes(src) || !st.cur.ids.includes(dst)) return;
  st.pathSrc = src;
  st.pathDst = dst;
  ui.pathSrc.value = String(src);
  ui.pathDst.value = String(dst);
  renderSelection();
}

for (const table of [ui.nexthop, ui.dist, ui.measured]) {
  table.addEventListener('click', (ev) => {
    const td = (ev.target as Element).closest('td');
    if (!td || td.dataset['src'] === td.dataset['dst']) return;
    selectPair(Number(td.dataset['src']), Number(td.dataset['dst']));
  });
}

ui.pathSrc.addEventListener('change', () => selectPair(Number(ui.pathSrc.value), st.pathDst));
ui.pathDst.addEventListener('change', () => selectPair(st.pathSrc, Number(ui.pathDst.value)));

function selectBroadcast(src: number): void {
  if (!st.cur || !st.cur.ids.includes(src)) return;
  st.bcastSrc = src;
  ui.bcastSrc.value = String(src);
  renderSelection();
}

ui.bcastSrc.addEventListener('change', () => selectBroadcast(Number(ui.bcastSrc.value)));
ui.graph.addEventListener('click', (ev) => {
  const g = (ev.target as Element).closest<SVGGElement>('g.node');
  if (g) selectBroadcast(Number(g.dataset['id']));
});
ui.graph.addEventListener('keydown', (ev) => {
  const g = (ev.target as Element).closest<SVGGElement>('g.node');
  if (g && (ev.key === 'Enter' || ev.key === ' ')) selectBroadcast(Number(g.dataset['id']));
});

ui.measuredDetails.addEventListener('toggle', renderDetails);
ui.solutionDetails.addEventListener('toggle', renderDetails);

ui.distMode.addEventListener('change', () => {
  if (!st.cur) return;
  renderDist();
  renderSelection();
});

$('solve').addEventListener('click', () => solveFromText());
ui.matrix.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
    ev.preventDefault();
    solveFromText();
  }
});

$('example').addEventListener('click', () => {
  ui.matrix.value = exampleMatrix();
  solveFromText();
});

$('random').addEventListener('click', () => {
  const n = Math.max(2, Math.min(100, Math.round(Number($<HTMLInputElement>('rand-n').value) || 8)));
  const density = Math.max(0, Math.min(1, Number($<HTMLInputElement>('rand-density').value) || 0));
  const seedInput = $<HTMLInputElement>('rand-seed');
  let seed = Math.floor(Number(seedInput.value));
  if (seedInput.value.trim() === '' || !Number.isFinite(seed)) {
    seed = Math.floor(Math.random() * 1e9);
    seedInput.value = String(seed);
  }
  ui.matrix.value = matrixText(randomMatrix(n, density, seed));
  solveFromText();
});

$('zero-offsets').addEventListener('click', () => setAllOffsets(() => 0));
$('random-offsets').addEventListener('click', () => setAllOffsets(() => Math.round((Math.random() - 0.5) * 1000)));

// ---------------------------------------------------------------------------------------------
// Start

async function start(): Promise<void> {
  await init();
  $('engine').textContent = `route engine: etherguard-core ${coreVersion()} (WASM${simd128() ? ', SIMD128' : ''})`;
  if (ui.matrix.value.trim() === '') ui.matrix.value = exampleMatrix();
  solveFromText();
  document.body.dataset['ready'] = 'true';
}

start().catch((e: unknown) => {
  showError(`cannot start the route engine: ${message(e)}`);
  document.body.dataset['ready'] = 'error';
});
