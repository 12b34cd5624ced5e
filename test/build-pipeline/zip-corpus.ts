/**
 * A hostile ZIP corpus for the build worker's tests: yazl for well-formed archives, and a
 * byte-level writer for what yazl refuses to make (unsafe names, lying headers, flags,
 * overlapping entries).
 */
/* eslint-disable no-bitwise -- ZIP header fields are bit fields */
import { deflateRawSync, crc32 } from 'node:zlib';
import * as yazl from 'yazl';
import type { ArtifactSink, BuildManifest, ManifestFile } from '../../functions/build-pipeline/extract-logic';

export interface YazlFile {
  readonly name: string;
  readonly data?: Buffer | string;
  readonly mode?: number;
  readonly compress?: boolean;
  readonly directory?: boolean;
}

export function yazlZip(files: readonly YazlFile[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const mtime = new Date('2026-01-01T00:00:00Z');
  for (const f of files) {
    if (f.directory) zip.addEmptyDirectory(f.name, { mtime });
    else zip.addBuffer(Buffer.from(f.data ?? ''), f.name, { mtime, mode: f.mode, compress: f.compress });
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

/** One hand-made entry; every header field can lie. */
export interface RawEntry {
  readonly name: string | Buffer;
  /** The real (uncompressed) content. */
  readonly data?: Buffer;
  readonly method?: number;
  /** General purpose flags in both headers (bit 0: encrypted, bit 6: strong encryption, bit 11: UTF-8). */
  readonly flags?: number;
  readonly localFlags?: number;
  readonly localName?: string | Buffer;
  readonly localMethod?: number;
  /** Unix mode (type + permissions); sets "made by Unix". */
  readonly mode?: number;
  readonly declaredUncompressed?: number;
  readonly declaredCompressed?: number;
  readonly crc?: number;
  /** Stored bytes as written (default: data, deflated when method is 8). */
  readonly payload?: Buffer;
}

const asBytes = (s: string | Buffer) => (Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8'));

export interface Encoded {
  readonly entry: RawEntry;
  readonly payload: Buffer;
  readonly crc: number;
  readonly usize: number;
  readonly csize: number;
}

export function encode(entry: RawEntry): Encoded {
  const data = entry.data ?? Buffer.alloc(0);
  const method = entry.method ?? 8;
  const payload = entry.payload ?? (method === 8 ? deflateRawSync(data) : data);
  return {
    entry,
    payload,
    crc: entry.crc ?? crc32(data),
    usize: entry.declaredUncompressed ?? data.length,
    csize: entry.declaredCompressed ?? payload.length,
  };
}

export function localHeader(e: Encoded): Buffer {
  const name = asBytes(e.entry.localName ?? e.entry.name);
  const h = Buffer.alloc(30);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(20, 4);
  h.writeUInt16LE(e.entry.localFlags ?? e.entry.flags ?? 0x800, 6);
  h.writeUInt16LE(e.entry.localMethod ?? e.entry.method ?? 8, 8);
  h.writeUInt16LE(0, 10);
  h.writeUInt16LE(0x5c21, 12);
  h.writeUInt32LE(e.crc >>> 0, 14);
  h.writeUInt32LE(e.csize, 18);
  h.writeUInt32LE(e.usize, 22);
  h.writeUInt16LE(name.length, 26);
  h.writeUInt16LE(0, 28);
  return Buffer.concat([h, name]);
}

export function centralHeader(e: Encoded, offset: number): Buffer {
  const name = asBytes(e.entry.name);
  const h = Buffer.alloc(46);
  h.writeUInt32LE(0x02014b50, 0);
  h.writeUInt16LE(e.entry.mode !== undefined ? (3 << 8) | 20 : 20, 4);
  h.writeUInt16LE(20, 6);
  h.writeUInt16LE(e.entry.flags ?? 0x800, 8);
  h.writeUInt16LE(e.entry.method ?? 8, 10);
  h.writeUInt16LE(0, 12);
  h.writeUInt16LE(0x5c21, 14);
  h.writeUInt32LE(e.crc >>> 0, 16);
  h.writeUInt32LE(e.csize, 20);
  h.writeUInt32LE(e.usize, 24);
  h.writeUInt16LE(name.length, 28);
  h.writeUInt16LE(0, 30);
  h.writeUInt16LE(0, 32);
  h.writeUInt16LE(0, 34);
  h.writeUInt16LE(0, 36);
  h.writeUInt32LE(e.entry.mode !== undefined ? (e.entry.mode << 16) >>> 0 : 0, 38);
  h.writeUInt32LE(offset, 42);
  return Buffer.concat([h, name]);
}

export function endOfCentralDirectory(count: number, cdSize: number, cdOffset: number): Buffer {
  const h = Buffer.alloc(22);
  h.writeUInt32LE(0x06054b50, 0);
  h.writeUInt16LE(count, 8);
  h.writeUInt16LE(count, 10);
  h.writeUInt32LE(cdSize, 12);
  h.writeUInt32LE(cdOffset, 16);
  return h;
}

/** A ZIP of hand-made entries, each local header followed by its payload, then the central directory. */
export function craftZip(entries: readonly RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const e = encode(entry);
    const local = Buffer.concat([localHeader(e), e.payload]);
    central.push(centralHeader(e, offset));
    parts.push(local);
    offset += local.length;
  }
  const cd = Buffer.concat(central);
  return Buffer.concat([...parts, cd, endOfCentralDirectory(entries.length, cd.length, offset)]);
}

/** Assembles a ZIP from raw body bytes and central headers (for overlapping entries). */
export function assembleZip(body: Buffer, centralHeaders: readonly Buffer[]): Buffer {
  const cd = Buffer.concat(centralHeaders);
  return Buffer.concat([body, cd, endOfCentralDirectory(centralHeaders.length, cd.length, body.length)]);
}

/** A sink in memory that records every call, in order. */
export class MemorySink implements ArtifactSink {
  readonly files = new Map<string, Buffer>();
  readonly calls: string[] = [];
  manifest?: BuildManifest;
  inFlight = 0;
  maxInFlight = 0;
  constructor(private readonly delayMs = 0, private readonly failOn?: string) {}

  async putFile(path: string, bytes: Buffer, _file: ManifestFile): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      if (path === this.failOn) throw new Error(`sink refused ${path}`);
      this.calls.push(`file:${path}`);
      this.files.set(path, Buffer.from(bytes));
    } finally {
      this.inFlight--;
    }
  }

  async putManifest(manifest: BuildManifest): Promise<void> {
    this.calls.push('manifest');
    this.manifest = manifest;
  }
}
