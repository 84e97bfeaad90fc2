// The board's flash as Espruino's `require("Storage")` sees it: named files of bytes (strings of one
// char per byte) that survive reset(), load() and power cycles. In memory, or mirrored to a folder so a
// board keeps its flash across simulator runs.
import * as fs from 'fs';
import * as path from 'path';

export class SimStorage {
  private files: { [name: string]: string };

  /**
   * `capacity` bytes of flash (ESP32 builds of Espruino keep a few hundred KB for Storage). `files`, when
   * given, is the object that holds the files: shared with a simulated board's app (`sparrow sim --app --pty`).
   */
  constructor(readonly capacity = 256 * 1024, private readonly dir?: string, files?: { [name: string]: string }) {
    this.files = files || {};
    if (dir) {
      fs.mkdirSync(dir, { recursive: true });
      for (const f of fs.readdirSync(dir)) this.files[decodeURIComponent(f)] = fs.readFileSync(path.join(dir, f), 'latin1');
    }
  }

  /**
   * Storage.write(name, data, offset, size): without offset, the file becomes `data`; the first write
   * of a file built in pieces gives its whole `size` (filled with 0xFF, as erased flash reads) and
   * later writes fill it at `offset`. Returns false when flash is full or the write does not fit.
   */
  write(name: string, data: string, offset?: number, size?: number): boolean {
    validName(name);
    let content: string;
    if (offset === undefined) content = data;
    else {
      const old = this.files[name];
      const base = offset === 0 && size !== undefined ? '\xff'.repeat(Math.max(size, data.length)) : old;
      if (base === undefined) throw new Error('Storage.write: no file "' + name + '" to write at offset ' + offset + ' (give size on the first write)');
      if (offset + data.length > base.length) throw new Error('Storage.write: offset+data beyond the file size ' + base.length);
      content = base.substring(0, offset) + data + base.substring(offset + data.length);
    }
    const used = this.used() - (this.files[name] ? this.files[name].length : 0);
    if (used + content.length > this.capacity) return false;
    this.files[name] = content;
    this.persist(name);
    return true;
  }

  read(name: string, offset?: number, length?: number): string | undefined {
    const f = this.files[name];
    if (f === undefined) return undefined;
    const start = offset || 0;
    return f.substring(start, length === undefined ? f.length : start + length);
  }

  erase(name: string): void {
    delete this.files[name];
    this.persist(name);
  }

  eraseAll(): void {
    for (const name of Object.keys(this.files)) this.erase(name);
  }

  list(pattern?: RegExp | string): string[] {
    return Object.keys(this.files).filter((n) => pattern === undefined || (typeof pattern === 'string' ? n.indexOf(pattern) >= 0 : pattern.test(n))).sort();
  }

  getFree(): number {
    return this.capacity - this.used();
  }

  private used(): number {
    let n = 0;
    for (const name of Object.keys(this.files)) n += this.files[name].length + 32; // per-file header, as on flash
    return n;
  }

  private persist(name: string): void {
    if (!this.dir) return;
    const file = path.join(this.dir, encodeURIComponent(name));
    if (this.files[name] === undefined) fs.rmSync(file, { force: true });
    else fs.writeFileSync(file, this.files[name], 'latin1');
  }
}

function validName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 28) throw new Error('Storage: invalid file name ' + JSON.stringify(name));
}
