// The supernode's live dashboard: polls {API_Prefix}/dashboard/data once a second (ShowState
// password from this page's ?Password=, sent as a Bearer header) and draws the one-way latency
// heatmap (canvas: one cell per directed link, so 100 edges are 9,900 cells at no DOM cost),
// the mesh graph with the selected pair's path in each direction (the playground's drawing code),
// why each path beats the direct link (the sums of the weights the supernode solved on, and the
// optimum the route engine, the same WASM core, finds on them now), liveness and clock offsets
// per edge, and the route-change history.
import init, { coreVersion } from 'etherguard-wasm';
import { drawGraph, highlight } from '../playground/draw.js';
import type { Matrix } from '../playground/matrix.js';
import { solve } from '../playground/routes.js';
import type { DashboardData, RouteChange } from './data.js';

type Data = DashboardData;
type Change = RouteChange;

const $ = <T extends Element>(sel: string): T => {
  const e = document.querySelector<T>(sel);
  if (!e) throw new Error(`missing ${sel}`);
  return e;
};

const ms = (s: number | null | undefined): string => (s === null || s === undefined || !Number.isFinite(s) ? '∞' : (s * 1000).toFixed(1));
const MAX_HISTORY_ROWS = 500;

const st = {
  data: undefined as Data | undefined,
  lastSeq: 0,
  a: undefined as number | undefined,
  b: undefined as number | undefined,
  wasm: false,
  renders: 0,
  lastRenderMs: 0,
};

function password(): string | undefined {
  return new URLSearchParams(location.search).get('Password') ?? undefined;
}

function showError(msg: string | undefined): void {
  const e = $<HTMLDivElement>('#error');
  e.hidden = msg === undefined;
  e.textContent = msg ?? '';
}

// ---- heatmap ------------------------------------------------------------------------------

function heatColor(t: number): string {
  // green (low) → yellow → red (high)
  const h = 140 - 140 * Math.min(1, Math.max(0, t));
  return `hsl(${h.toFixed(0)} 72% 48%)`;
}

function drawHeatmap(d: Data): void {
  const c = $<HTMLCanvasElement>('#heatmap');
  const n = d.ids.length;
  const cell = Math.max(3, Math.floor(480 / Math.max(1, n)));
  const size = Math.max(1, cell * n);
  if (c.width !== size) {
    c.width = size;
    c.height = size;
  }
  const g = c.getContext('2d');
  if (!g) return;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of d.lat) {
    if (v === null) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const span = hi - lo || 1;
  g.fillStyle = '#000';
  g.fillRect(0, 0, size, size);
  let cells = 0;
  g.font = `${Math.max(8, Math.floor(cell / 3.2))}px ui-monospace, monospace`;
  g.textAlign = 'center';
  g.textBaseline = 'middle';
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) {
        g.fillStyle = '#d5dae0';
        g.fillRect(j * cell, i * cell, cell, cell);
        continue;
      }
      const v = d.lat[i * n + j];
      if (v === null || v === undefined) continue;
      cells++;
      g.fillStyle = heatColor((v - lo) / span);
      g.fillRect(j * cell, i * cell, cell - (cell > 6 ? 1 : 0), cell - (cell > 6 ? 1 : 0));
      if (cell >= 40) {
        g.fillStyle = '#fff';
        g.fillText(ms(v), j * cell + cell / 2, i * cell + cell / 2);
      }
    }
  }
  // The selected pair: both cells outlined, so both directions are seen together.
  const ia = st.a === undefined ? -1 : d.ids.indexOf(st.a);
  const ib = st.b === undefined ? -1 : d.ids.indexOf(st.b);
  if (ia >= 0 && ib >= 0) {
    g.strokeStyle = '#1f5fbf';
    g.lineWidth = Math.max(1, cell / 12);
    g.strokeRect(ib * cell + 1, ia * cell + 1, cell - 2, cell - 2);
    g.strokeRect(ia * cell + 1, ib * cell + 1, cell - 2, cell - 2);
  }
  c.dataset['n'] = String(n);
  c.dataset['cells'] = String(cells);
  c.dataset['cell'] = String(cell);
}

function cellAt(ev: MouseEvent): [number, number] | undefined {
  const d = st.data;
  if (!d) return undefined;
  const c = $<HTMLCanvasElement>('#heatmap');
  const r = c.getBoundingClientRect();
  const n = d.ids.length;
  const cell = Number(c.dataset['cell'] ?? 1);
  const x = ((ev.clientX - r.left) / r.width) * c.width;
  const y = ((ev.clientY - r.top) / r.height) * c.height;
  const i = Math.floor(y / cell);
  const j = Math.floor(x / cell);
  return i >= 0 && j >= 0 && i < n && j < n ? [i, j] : undefined;
}

// ---- paths --------------------------------------------------------------------------------

function pathIn(d: Data, src: number, dst: number): number[] {
  const n = d.ids.length;
  const index = new Map(d.ids.map((id, i) => [id, i]));
  const p = [src];
  let at = src;
  while (at !== dst) {
    const i = index.get(at);
    const j = index.get(dst);
    const nh = i === undefined || j === undefined ? null : d.nh[i * n + j];
    if (nh === null || nh === undefined || p.includes(nh)) return [];
    p.push(nh);
    at = nh;
  }
  return p;
}

function weight(d: Data, which: 'w' | 'lat', a: number, b: number): number {
  const n = d.ids.length;
  const i = d.ids.indexOf(a);
  const j = d.ids.indexOf(b);
  const v = i < 0 || j < 0 ? null : d[which][i * n + j];
  return v === null || v === undefined ? Infinity : v;
}

/** One direction's explanation: the path, its sums, and the direct link's weight. */
function explain(d: Data, a: number, b: number, engineDist: number | undefined): string {
  const p = pathIn(d, a, b);
  if (p.length === 0) return `<p><b>${a} → ${b}</b>: no route</p>`;
  const parts: string[] = [];
  let total = 0;
  for (let k = 1; k < p.length; k++) {
    const w = weight(d, 'w', p[k - 1]!, p[k]!);
    total += w;
    parts.push(`${p[k - 1]}→${p[k]} ${ms(w)}`);
  }
  const direct = weight(d, 'w', a, b);
  const sum = parts.length > 1 ? `${parts.join(' + ')} = ${ms(total)} ms` : `${ms(total)} ms`;
  let verdict: string;
  if (p.length === 2) verdict = `<span class="direct">the direct link</span>`;
  else if (!Number.isFinite(direct)) verdict = `<span class="beats">the direct link ${a}→${b} is down</span>`;
  else verdict = `<span class="beats">beats the direct link ${a}→${b} (${ms(direct)} ms) by ${ms(direct - total)} ms</span>`;
  const engine = engineDist !== undefined && Number.isFinite(engineDist) ? `; route engine optimum now ${ms(engineDist)} ms` : '';
  return `<p><b>${a} → ${b}</b>: ${p.join(' → ')} — ${sum} (latency + AdditionalCost) — ${verdict}${engine}</p>`;
}

/** The engine's best distances on the solved weights (same WASM core as the supernode). */
function engineDists(d: Data, pairs: Array<[number, number]>): Map<string, number> {
  const out = new Map<string, number>();
  if (!st.wasm) return out;
  const m: Matrix = { ids: d.ids, w: Float64Array.from(d.w, (v) => (v === null ? Infinity : v)) };
  try {
    const s = solve(m, new Map());
    const n = s.ids.length;
    for (const [a, b] of pairs) {
      const i = s.ids.indexOf(a);
      const j = s.ids.indexOf(b);
      if (i >= 0 && j >= 0) out.set(`${a}>${b}`, s.dist[i * n + j]!);
    }
    s.graph.free();
  } catch {
    /* a negative cycle in live data: no engine figure */
  }
  return out;
}

function drawPaths(d: Data): void {
  const svg = $<SVGSVGElement>('#graph');
  const m: Matrix = { ids: d.ids, w: Float64Array.from(d.lat, (v) => (v === null ? Infinity : v)) };
  drawGraph(svg, m);
  const a = st.a;
  const b = st.b;
  const info = $<HTMLDivElement>('#pair-info');
  if (a === undefined || b === undefined || a === b) {
    info.textContent = 'select two edges';
    return;
  }
  const ab = pathIn(d, a, b);
  const ba = pathIn(d, b, a);
  const back: Array<[number, number]> = [];
  for (let k = 1; k < ba.length; k++) back.push([ba[k - 1]!, ba[k]!]);
  highlight(svg, { path: ab, pathSrc: a, pathDst: b, bcastSrc: -1, bcastEdges: back });
  const eng = engineDists(d, [[a, b], [b, a]]);
  info.innerHTML = explain(d, a, b, eng.get(`${a}>${b}`)) + explain(d, b, a, eng.get(`${b}>${a}`));
  info.dataset['ab'] = ab.join(',');
  info.dataset['ba'] = ba.join(',');
}

// ---- tables -------------------------------------------------------------------------------

/** Clock offsets relative to the first live edge, from pairs measured both ways (assumes symmetric links). */
function clockOffsets(d: Data): { ref: number | undefined; off: Map<number, number> } {
  const n = d.ids.length;
  const off = new Map<number, number>();
  const r = d.ids.findIndex((_, i) => d.alive[i]);
  if (r < 0) return { ref: undefined, off };
  off.set(d.ids[r]!, 0);
  const queue = [r];
  while (queue.length) {
    const i = queue.shift()!;
    for (let j = 0; j < n; j++) {
      if (off.has(d.ids[j]!)) continue;
      const fwd = d.lat[i * n + j];
      const rev = d.lat[j * n + i];
      if (fwd === null || rev === null || fwd === undefined || rev === undefined) continue;
      // m(i→j) − m(j→i) = 2·(off(j) − off(i)) + (true(i→j) − true(j→i))
      off.set(d.ids[j]!, off.get(d.ids[i]!)! + (fwd - rev) / 2);
      queue.push(j);
    }
  }
  return { ref: d.ids[r], off };
}

function renderEdges(d: Data): void {
  const { ref, off } = clockOffsets(d);
  $('#offset-head').textContent = ref === undefined ? 'clock offset (ms)' : `clock offset (ms, vs ${ref})`;
  const rows = d.ids.map((id, i) => {
    const o = off.get(id);
    const ago = d.lastSeenAgo[i]!;
    return `<tr data-node="${id}"><td>${id}</td><td>${escapeHtml(d.names[i] ?? '')}</td><td class="${d.alive[i] ? 'up' : 'down'}">${d.alive[i] ? 'up' : 'down'}</td>` +
      `<td>${ago < 0 ? 'never' : `${ago.toFixed(1)} s ago`}</td><td>${o === undefined ? '–' : (o * 1000).toFixed(1)}</td></tr>`;
  });
  $('#edges tbody').innerHTML = rows.join('');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function addHistory(changes: Change[]): void {
  const body = $<HTMLTableSectionElement>('#history tbody');
  body.querySelectorAll('tr.fresh').forEach((tr) => tr.classList.remove('fresh'));
  for (const c of changes) {
    const tr = document.createElement('tr');
    tr.className = 'fresh';
    tr.dataset['seq'] = String(c.seq);
    const nh = (x: number | null) => (x === null ? 'none' : String(x));
    tr.innerHTML = `<td>${new Date(c.atMs).toLocaleTimeString()}</td><td>${c.src} → ${c.dst}</td><td>${nh(c.oldNh)} → ${nh(c.newNh)}</td><td>${escapeHtml(c.why)}</td>`;
    body.prepend(tr);
  }
  while (body.rows.length > MAX_HISTORY_ROWS) body.deleteRow(body.rows.length - 1);
}

function fillPairs(d: Data): void {
  for (const sel of ['#pair-a', '#pair-b']) {
    const s = $<HTMLSelectElement>(sel);
    const have = Array.from(s.options, (o) => Number(o.value));
    if (have.length === d.ids.length && have.every((v, i) => v === d.ids[i])) continue;
    s.replaceChildren(...d.ids.map((id) => new Option(String(id), String(id))));
  }
  if (st.a === undefined || !d.ids.includes(st.a)) st.a = d.ids[0];
  if (st.b === undefined || !d.ids.includes(st.b) || st.b === st.a) st.b = d.ids.find((x) => x !== st.a);
  $<HTMLSelectElement>('#pair-a').value = String(st.a ?? '');
  $<HTMLSelectElement>('#pair-b').value = String(st.b ?? '');
}

/** Draws everything from one data document (also called by the tests with synthetic data). */
export function render(d: Data): void {
  const t0 = performance.now();
  st.data = d;
  fillPairs(d);
  const live = d.alive.filter(Boolean).length;
  $('#summary').textContent = `${d.ids.length} edges, ${live} up · next-hop table ${d.nhHash.slice(0, 8)} · updated ${new Date(d.nowMs).toLocaleTimeString()}`;
  drawHeatmap(d);
  drawPaths(d);
  renderEdges(d);
  if (d.history.length) addHistory(d.history.filter((c) => c.seq > st.lastSeq));
  st.lastSeq = Math.max(st.lastSeq, d.lastSeq);
  st.renders++;
  st.lastRenderMs = performance.now() - t0;
  document.body.dataset['renders'] = String(st.renders);
}

async function poll(): Promise<void> {
  const pw = password();
  try {
    const r = await fetch(`./data?since=${st.lastSeq}`, { headers: pw ? { authorization: `Bearer ${pw}` } : {}, cache: 'no-store' });
    const text = await r.text();
    if (!r.ok) {
      let msg = text;
      try {
        msg = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        /* not JSON */
      }
      showError(`HTTP ${r.status}: ${msg}`);
    } else {
      showError(undefined);
      render(JSON.parse(text) as Data);
    }
  } catch (e) {
    showError(`cannot reach the supernode: ${(e as Error).message}`);
  }
  setTimeout(() => void poll(), 1000);
}

function rerender(): void {
  if (st.data) render({ ...st.data, history: [] });
}

async function start(): Promise<void> {
  $<HTMLSelectElement>('#pair-a').addEventListener('change', (e) => {
    st.a = Number((e.target as HTMLSelectElement).value);
    rerender();
  });
  $<HTMLSelectElement>('#pair-b').addEventListener('change', (e) => {
    st.b = Number((e.target as HTMLSelectElement).value);
    rerender();
  });
  const c = $<HTMLCanvasElement>('#heatmap');
  c.addEventListener('mousemove', (ev) => {
    const d = st.data;
    const at = cellAt(ev);
    if (!d || !at) return;
    const [i, j] = at;
    const a = d.ids[i]!;
    const b = d.ids[j]!;
    $('#heat-tip').textContent = a === b ? `node ${a}` : `${a}→${b}: ${ms(weight(d, 'lat', a, b))} ms · ${b}→${a}: ${ms(weight(d, 'lat', b, a))} ms`;
  });
  c.addEventListener('click', (ev) => {
    const d = st.data;
    const at = cellAt(ev);
    if (!d || !at || at[0] === at[1]) return;
    st.a = d.ids[at[0]];
    st.b = d.ids[at[1]];
    rerender();
  });
  try {
    await init();
    st.wasm = true;
    $('#engine').textContent = `· route engine ${coreVersion()} (WASM)`;
  } catch (e) {
    $('#engine').textContent = `· route engine not loaded: ${(e as Error).message}`;
  }
  (window as unknown as { egDashboard: unknown }).egDashboard = { render, state: st };
  await poll();
}

void start();
