// SVG drawing of the directed graph: nodes on a circle, one arrow per directed edge (the two
// directions of a link bend to opposite sides), then highlighting by toggling classes.
import { fmtMs, type Matrix } from './matrix.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const SIZE = 600;
const CENTER = SIZE / 2;

function el<K extends keyof SVGElementTagNameMap>(
  name: K,
  attrs: Record<string, string | number>,
  parent?: Element,
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.appendChild(e);
  return e;
}

interface Pt {
  x: number;
  y: number;
}

const sub = (a: Pt, b: Pt): Pt => ({ x: a.x - b.x, y: a.y - b.y });
const len = (a: Pt): number => Math.hypot(a.x, a.y);
const unit = (a: Pt): Pt => {
  const l = len(a) || 1;
  return { x: a.x / l, y: a.y / l };
};
const r1 = (v: number): string => v.toFixed(1);

function marker(defs: SVGDefsElement, id: string): void {
  const m = el('marker', {
    id,
    viewBox: '0 0 10 10',
    refX: 9,
    refY: 5,
    markerWidth: 9,
    markerHeight: 9,
    markerUnits: 'userSpaceOnUse',
    orient: 'auto-start-reverse',
  }, defs);
  el('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: `tip ${id}` }, m);
}

/** Above this many directed edges only the highlighted ones are drawn (the rest is a blur). */
export const MAX_DRAWN_EDGES = 1500;

interface Layout {
  m: Matrix;
  pos: Pt[];
  nodeR: number;
  labels: boolean;
  /** Only highlighted edges are drawn (too many edges). */
  lazy: boolean;
}

const layouts = new WeakMap<SVGSVGElement, Layout>();

function drawEdge(edges: SVGGElement, l: Layout, i: number, j: number): SVGGElement {
  const { m, pos, nodeR } = l;
  const n = m.ids.length;
  const w = m.w[i * n + j]!;
  const p = pos[i]!;
  const q = pos[j]!;
  const d = unit(sub(q, p));
  const normal = { x: -d.y, y: d.x };
  const both = Number.isFinite(m.w[j * n + i]!);
  const bend = both ? Math.min(26, len(sub(q, p)) * 0.12) : 0;
  const mid = { x: (p.x + q.x) / 2, y: (p.y + q.y) / 2 };
  const ctrl = { x: mid.x + normal.x * bend, y: mid.y + normal.y * bend };
  const ds = unit(sub(ctrl, p));
  const de = unit(sub(ctrl, q));
  const a = { x: p.x + ds.x * nodeR, y: p.y + ds.y * nodeR };
  const b = { x: q.x + de.x * (nodeR + 1), y: q.y + de.y * (nodeR + 1) };
  const dAttr = `M ${r1(a.x)} ${r1(a.y)} Q ${r1(ctrl.x)} ${r1(ctrl.y)} ${r1(b.x)} ${r1(b.y)}`;
  const g = el('g', { class: 'edge', 'data-src': m.ids[i]!, 'data-dst': m.ids[j]! }, edges);
  el('title', {}, g).textContent = `${m.ids[i]} → ${m.ids[j]}: ${fmtMs(w)} ms (measured)`;
  el('path', { class: 'hl', d: dAttr }, g);
  el('path', { class: 'line', d: dAttr }, g);
  if (l.labels || l.lazy) {
    // The point of the quadratic at t = 0.5, pushed a little further out.
    const lp = { x: (a.x + 2 * ctrl.x + b.x) / 4 + normal.x * 7, y: (a.y + 2 * ctrl.y + b.y) / 4 + normal.y * 7 };
    el('text', { class: 'lbl', x: r1(lp.x), y: r1(lp.y) }, g).textContent = fmtMs(w);
  }
  return g;
}

/**
 * Draws `m` (the measured matrix: edge labels show its values in ms) into `svg`. Returns the
 * number of directed edges, and whether they are all drawn (see MAX_DRAWN_EDGES).
 */
export function drawGraph(svg: SVGSVGElement, m: Matrix): { edges: number; allDrawn: boolean } {
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${SIZE} ${SIZE}`);
  const n = m.ids.length;
  const defs = el('defs', {}, svg);
  for (const id of ['arrow', 'arrow-bcast', 'arrow-path']) marker(defs, id);
  const nodeR = Math.max(5, Math.min(20, 160 / Math.max(1, n)));
  const ringR = CENTER - nodeR - 28;
  const pos: Pt[] = m.ids.map((_, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / n;
    return { x: CENTER + ringR * Math.cos(a), y: CENTER + ringR * Math.sin(a) };
  });
  let count = 0;
  for (let k = 0; k < n * n; k++) if (Number.isFinite(m.w[k]!) && k % (n + 1) !== 0) count++;
  const l: Layout = { m, pos, nodeR, labels: n <= 10, lazy: count > MAX_DRAWN_EDGES };
  layouts.set(svg, l);
  const edges = el('g', { class: 'edges' }, svg);
  if (!l.lazy) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (i !== j && Number.isFinite(m.w[i * n + j]!)) drawEdge(edges, l, i, j);
      }
    }
  }
  const nodes = el('g', { class: 'nodes' }, svg);
  m.ids.forEach((id, i) => {
    const g = el('g', { class: 'node', 'data-id': id, tabindex: 0, role: 'button' }, nodes);
    el('title', {}, g).textContent = `node ${id}: click to broadcast from it`;
    el('circle', { cx: r1(pos[i]!.x), cy: r1(pos[i]!.y), r: r1(nodeR) }, g);
    el('text', { x: r1(pos[i]!.x), y: r1(pos[i]!.y), 'font-size': r1(Math.max(8, nodeR * 0.9)) }, g).textContent =
      String(id);
  });
  return { edges: count, allDrawn: !l.lazy };
}

export interface Highlight {
  path: number[];
  pathSrc: number;
  pathDst: number;
  bcastSrc: number;
  bcastEdges: Array<[number, number]>;
}

/** Marks the path edges (`on-path`), broadcast edges (`bcast`) and the nodes concerned. */
export function highlight(svg: SVGSVGElement, h: Highlight): void {
  const onPath = new Set<string>();
  for (let k = 1; k < h.path.length; k++) onPath.add(`${h.path[k - 1]}>${h.path[k]}`);
  const bcast = new Set(h.bcastEdges.map(([a, b]) => `${a}>${b}`));
  const edges = svg.querySelector<SVGGElement>('g.edges');
  const l = layouts.get(svg);
  if (edges && l?.lazy) {
    // Too many edges to draw them all: draw exactly the highlighted ones.
    edges.replaceChildren();
    const index = new Map(l.m.ids.map((id, i) => [id, i]));
    for (const key of new Set([...onPath, ...bcast])) {
      const [a, b] = key.split('>').map((v) => index.get(Number(v)));
      if (a !== undefined && b !== undefined) drawEdge(edges, l, a, b);
    }
  }
  const lifted: SVGGElement[] = [];
  svg.querySelectorAll<SVGGElement>('g.edge').forEach((g) => {
    const key = `${g.dataset['src']}>${g.dataset['dst']}`;
    g.classList.toggle('on-path', onPath.has(key));
    g.classList.toggle('bcast', bcast.has(key));
    if (onPath.has(key) || bcast.has(key)) lifted.push(g);
  });
  // Highlighted edges on top of the others.
  for (const g of lifted) edges?.appendChild(g);
  const inPath = new Set(h.path);
  svg.querySelectorAll<SVGGElement>('g.node').forEach((g) => {
    const id = Number(g.dataset['id']);
    g.classList.toggle('in-path', inPath.has(id));
    g.classList.toggle('path-src', id === h.pathSrc);
    g.classList.toggle('path-dst', id === h.pathDst);
    g.classList.toggle('bcast-src', id === h.bcastSrc);
  });
}
