// The device list, virtualized: a spacer as tall as every row together gives the scrollbar its size,
// and only the rows in view (plus a few) exist as elements, reused as the view scrolls. A fleet of
// 1,000 or 100,000 devices costs the same few dozen rows of DOM, and a frame redraws only those.
import type { Device } from './fleet';

export const ROW_HEIGHT = 34;
const OVERSCAN = 6;
/** Sensor columns shown; more sensors are in the detail panel. */
export const MAX_SENSOR_COLUMNS = 4;

export class DeviceTable {
  private rows: HTMLElement[] = [];
  private list: Device[] = [];
  private columns: string[] = [];
  private first = -1;
  private selected: string | null = null;

  constructor(private scroller: HTMLElement, private spacer: HTMLElement, private head: HTMLElement, private onSelect: (id: string) => void) {
    scroller.addEventListener('scroll', () => this.draw(true), { passive: true });
    // one listener for every row: rows are reused, so they carry their device in data-id
    spacer.addEventListener('click', (ev) => {
      const row = (ev.target as HTMLElement).closest('.row') as HTMLElement | null;
      if (row && row.dataset.id) this.onSelect(row.dataset.id);
    });
  }

  setList(list: Device[], columns: string[], selected: string | null): void {
    this.list = list;
    this.selected = selected;
    const cols = columns.slice(0, MAX_SENSOR_COLUMNS);
    if (cols.join('\n') !== this.columns.join('\n')) {
      this.columns = cols;
      this.head.innerHTML = '';
      for (const name of ['', 'device', ...cols, 'last seen']) {
        const c = document.createElement('div');
        c.className = name === '' ? 'cell dot-col' : name === 'device' ? 'cell id' : name === 'last seen' ? 'cell ago' : 'cell num';
        c.textContent = name;
        this.head.appendChild(c);
      }
      for (const r of this.rows) r.remove();
      this.rows = [];
    }
    this.spacer.style.height = list.length * ROW_HEIGHT + 'px';
    this.draw(true);
  }

  /** Redraws the rows in view; `all` also those whose device did not change (after scrolling or a new list). */
  draw(all: boolean, now = Date.now() / 1000): void {
    const view = this.scroller.clientHeight || 600;
    const first = Math.max(0, Math.floor(this.scroller.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const count = Math.min(this.list.length - first, Math.ceil(view / ROW_HEIGHT) + 2 * OVERSCAN);
    while (this.rows.length < Math.max(0, count)) this.rows.push(this.makeRow());
    if (first !== this.first) { all = true; this.first = first; }
    for (let i = 0; i < this.rows.length; i++) {
      const row = this.rows[i];
      const d = this.list[first + i];
      if (i >= count || !d) { row.style.display = 'none'; row.dataset.id = ''; continue; }
      if (!all && !d.dirty && row.dataset.id === d.id) { this.ago(row, d, now); continue; }
      this.fill(row, d, first + i, now);
    }
  }

  private makeRow(): HTMLElement {
    const row = document.createElement('div');
    row.className = 'row';
    const cells = ['dot-col', 'id', ...this.columns.map(() => 'num'), 'ago'];
    for (const c of cells) {
      const cell = document.createElement('div');
      cell.className = 'cell ' + c;
      if (c === 'dot-col') cell.appendChild(document.createElement('span')).className = 'dot';
      row.appendChild(cell);
    }
    this.spacer.appendChild(row);
    return row;
  }

  private fill(row: HTMLElement, d: Device, index: number, now: number): void {
    row.style.display = '';
    row.style.transform = `translateY(${index * ROW_HEIGHT}px)`;
    row.dataset.id = d.id;
    row.dataset.state = d.state;
    row.title = d.stale ? 'silent for longer than its readings\' pace allows' : '';
    row.classList.toggle('selected', d.id === this.selected);
    const cells = row.children;
    setText(cells[1] as HTMLElement, d.id);
    for (let c = 0; c < this.columns.length; c++) {
      const s = d.sensors.get(this.columns[c]);
      setText(cells[2 + c] as HTMLElement, s ? formatValue(s.last) : '–');
    }
    this.ago(row, d, now);
  }

  private ago(row: HTMLElement, d: Device, now: number): void {
    setText(row.lastElementChild as HTMLElement, ago(now - d.seen));
  }
}

/** Writes only when the text differs: an unchanged text node costs no style or layout work. */
export function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

export function formatValue(v: number): string {
  if (!isFinite(v)) return '–';
  const a = Math.abs(v);
  return a >= 1000 ? v.toFixed(0) : a >= 100 ? v.toFixed(1) : v.toFixed(2);
}

/** How long ago; NaN (nothing live since the page opened, only retained messages) is a dash, not a guess. */
export function ago(seconds: number): string {
  if (!isFinite(seconds)) return '–';
  if (seconds < 2) return 'now';
  if (seconds < 60) return Math.floor(seconds) + ' s ago';
  if (seconds < 3600) return Math.floor(seconds / 60) + ' min ago';
  return Math.floor(seconds / 3600) + ' h ago';
}
