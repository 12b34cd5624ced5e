/* eslint-disable no-bitwise -- ZIP flags, Unix modes and attributes are bit fields */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32, inflateRawSync } from 'node:zlib';
import * as yauzl from 'yauzl';
import { assertHandlerFile, BuildRejectedError, handlerRequirement, normalizeEntryPath } from './zip-paths';
import {
  BuildFailureReason, DEFAULT_ZIP_LIMITS, MANIFEST_VERSION, ZipLimits,
} from '../../lib/build-pipeline/contract';

export { BuildRejectedError } from './zip-paths';

/** A ZIP read by ranges (an S3 object through ranged GETs, a file): only what yauzl asks for is read. */
export interface ZipRangeSource {
  readonly size: number;
  /** Bytes [start, end). */
  read(start: number, end: number): Promise<Uint8Array>;
}
export type ZipInput = Buffer | ZipRangeSource;

export interface ManifestFile {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  /** The entry's Unix mode had an execute bit (e.g. a custom runtime's `bootstrap`). */
  readonly executable: boolean;
}

export interface ManifestWarning {
  readonly code: 'CASE_ONLY_DUPLICATE';
  readonly paths: readonly string[];
}

export interface BuildManifest {
  readonly version: number;
  readonly runtime: string;
  readonly handler: string;
  /** The file the handler setting resolved to. */
  readonly handlerFile: string;
  readonly fileCount: number;
  /** Sum of the inflated sizes, counted while inflating. */
  readonly totalBytes: number;
  readonly archiveBytes: number;
  /** Sorted by path. */
  readonly files: readonly ManifestFile[];
  readonly warnings: readonly ManifestWarning[];
}

/** Where extracted files go. Paths are normalized and relative; the sink adds the job's prefix. */
export interface ArtifactSink {
  putFile(path: string, bytes: Buffer, file: ManifestFile): Promise<void>;
  /** Called once, after every file was written. */
  putManifest(manifest: BuildManifest): Promise<void>;
}

export interface BuildInput {
  readonly runtime: string;
  /** Lambda's handler setting; the runtime's default when absent. */
  readonly handler?: string;
}

export interface ExtractOptions {
  readonly limits?: Partial<ZipLimits>;
  /** Most `putFile` calls in flight. @default 8 */
  readonly writeConcurrency?: number;
  /** Most inflated bytes held for writes in flight (one entry always may be). @default 32 MiB */
  readonly writeBufferBytes?: number;
  /**
   * Entries whose compressed and declared sizes are both at most this are inflated in one
   * synchronous call capped at the declared size (no stream per entry: 2-3x faster on
   * archives of many small files); larger ones stream through the meter. @default 4 MiB
   */
  readonly syncInflateMaxBytes?: number;
}

interface CatalogEntry {
  readonly entry: yauzl.Entry;
  readonly path: string;
  readonly executable: boolean;
  /** Offset of the entry's data, from its local header. */
  readonly dataStart: number;
}

interface Inflater {
  readonly zip: yauzl.ZipFile;
  readonly input: ZipInput;
  readonly limits: ZipLimits;
  readonly syncMax: number;
}

interface Verified {
  readonly size: number;
  readonly sha256: string;
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const FLAG_ENCRYPTED = 0x1;
const FLAG_STRONG_ENCRYPTION = 0x40;
const METHOD_STORED = 0;
const METHOD_DEFLATED = 8;
const READ_CHUNK = 1024 * 1024;

const reject = (reason: keyof typeof BuildFailureReason, message: string, entry?: string) =>
  new BuildRejectedError(BuildFailureReason[reason], message, entry);

/**
 * Validates a build's ZIP and extracts its files into `sink`. Three passes over the archive:
 * 1. the central directory and every local header (names, types, flags, duplicates,
 *    overlaps, declared sizes, the handler file), nothing inflated;
 * 2. every file inflated and counted (total bytes and per-entry ratio while inflating,
 *    CRC-32 and SHA-256), nothing written;
 * 3. inflated again, each entry's SHA-256 checked against pass 2, then written.
 * So a rejected archive writes nothing. Memory: the central directory, plus the entries
 * whose writes are in flight (`writeBufferBytes`, at least one entry). Throws
 * BuildRejectedError for anything the user must fix; other errors are the sink's or ours.
 */
export async function inspectAndExtract(
  input: ZipInput,
  build: BuildInput,
  sink: ArtifactSink,
  options: ExtractOptions = {},
): Promise<BuildManifest> {
  const limits: ZipLimits = { ...DEFAULT_ZIP_LIMITS, ...options.limits };
  const requirement = handlerRequirement(build.runtime, build.handler);
  const archiveBytes = Buffer.isBuffer(input) ? input.length : input.size;
  if (archiveBytes > limits.maxUploadBytes) {
    throw reject('ARCHIVE_TOO_LARGE', `The ZIP is ${archiveBytes} bytes; the limit is ${limits.maxUploadBytes} bytes.`);
  }
  const zip = await openZip(input);
  try {
    const { entries, warnings } = await catalog(zip, limits);
    const handlerFile = assertHandlerFile(requirement, new Set(entries.map((e) => e.path)));

    const inflater: Inflater = { zip, input, limits, syncMax: options.syncInflateMaxBytes ?? 4 * 1024 * 1024 };
    const verified = new Map<CatalogEntry, Verified>();
    const totals = { bytes: 0 };
    for (const e of entries) verified.set(e, await inflate(inflater, e, totals));

    const files = entries
      .map((e): ManifestFile => ({ path: e.path, size: verified.get(e)!.size, sha256: verified.get(e)!.sha256, executable: e.executable }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const byPath = new Map(files.map((f) => [f.path, f]));
    await writeAll(inflater, entries, options, async (e, bytes) => {
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const expected = verified.get(e)!;
      if (sha256 !== expected.sha256 || bytes.length !== expected.size) {
        throw reject('CORRUPT_ARCHIVE', `Entry ${JSON.stringify(e.path)} changed while the ZIP was read; upload it again.`, e.path);
      }
      await sink.putFile(e.path, bytes, byPath.get(e.path)!);
    });

    const manifest: BuildManifest = {
      version: MANIFEST_VERSION,
      runtime: build.runtime,
      handler: requirement.handler,
      handlerFile,
      fileCount: files.length,
      totalBytes: totals.bytes,
      archiveBytes,
      files,
      warnings,
    };
    await sink.putManifest(manifest);
    return manifest;
  } finally {
    zip.close();
  }
}

const YAUZL_OPTIONS: yauzl.Options = {
  lazyEntries: true,
  autoClose: false,
  // Names are decoded and checked here (NUL, control characters, normalization), not by yauzl.
  decodeStrings: false,
  validateEntrySizes: true,
  strictFileNames: true,
};

class RangeReader extends yauzl.RandomAccessReader {
  constructor(private readonly source: ZipRangeSource) {
    super();
  }
  override _readStreamForRange(start: number, end: number): Readable {
    const source = this.source;
    return Readable.from((async function* chunks() {
      for (let at = start; at < end; at += READ_CHUNK) {
        const bytes = await source.read(at, Math.min(end, at + READ_CHUNK));
        yield Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      }
    })());
  }
}

function openZip(input: ZipInput): Promise<yauzl.ZipFile> {
  return new Promise((resolve, rejectPromise) => {
    const done = (err: Error | null, zip?: yauzl.ZipFile) => (err ? rejectPromise(mapArchiveError(err)) : resolve(zip!));
    if (Buffer.isBuffer(input)) yauzl.fromBuffer(input, YAUZL_OPTIONS, done);
    else yauzl.fromRandomAccessReader(new RangeReader(input), input.size, YAUZL_OPTIONS, done);
  });
}

/** yauzl's errors are plain Errors; their messages are stable within the pinned version (tests cover each). */
function mapArchiveError(err: Error, entry?: string): Error {
  if (err instanceof BuildRejectedError) return err;
  const m = err.message;
  if (/end of central directory record signature not found/i.test(m)) {
    return reject('NOT_A_ZIP', 'The upload is not a ZIP archive (no end of central directory record). Upload a .zip file.');
  }
  if (/strong encryption/i.test(m) || /entry is encrypted/i.test(m)) {
    return reject('ENCRYPTED_ENTRY', 'The ZIP has encrypted entries; upload it without a password.', entry);
  }
  if (/size mismatch|too many bytes|not enough bytes/i.test(m)) {
    return reject('ENTRY_SIZE_MISMATCH', `${entry ? `Entry ${JSON.stringify(entry)}` : 'An entry'} inflates to another size than its header says (${m}); the ZIP is corrupt or crafted. Re-create it with a standard zip tool.`, entry);
  }
  if ((err as { code?: string }).code?.startsWith('Z_') || /invalid (block|stored|distance|code)|incorrect header|unexpected end/i.test(m)) {
    return reject('CORRUPT_ENTRY', `Entry ${JSON.stringify(entry ?? '?')} cannot be inflated (${m}); re-create the ZIP.`, entry);
  }
  return reject('CORRUPT_ARCHIVE', `The ZIP is damaged or malformed (${m}); re-create it with a standard zip tool.`, entry);
}

function readEntries(zip: yauzl.ZipFile, onEntry: (entry: yauzl.Entry) => Promise<void>): Promise<void> {
  return new Promise((resolve, rejectPromise) => {
    let failed = false;
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      rejectPromise(mapArchiveError(err));
    };
    zip.on('error', fail);
    zip.on('end', () => { if (!failed) resolve(); });
    zip.on('entry', (entry: yauzl.Entry) => {
      onEntry(entry).then(() => { if (!failed) zip.readEntry(); }, fail);
    });
    zip.readEntry();
  });
}

function readLocalHeader(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<yauzl.LocalFileHeader> {
  return new Promise((resolve, rejectPromise) => {
    zip.readLocalFileHeader(entry, (err, header) => (err ? rejectPromise(mapArchiveError(err)) : resolve(header)));
  });
}

/** Pass 1: every rule that needs no inflating. */
async function catalog(zip: yauzl.ZipFile, limits: ZipLimits): Promise<{ entries: CatalogEntry[]; warnings: ManifestWarning[] }> {
  if (zip.entryCount === 0) throw reject('EMPTY_ARCHIVE', 'The ZIP is empty; it must hold the function\'s files.');
  if (zip.entryCount > limits.maxEntries) {
    throw reject('TOO_MANY_ENTRIES', `The ZIP has ${zip.entryCount} entries; the limit is ${limits.maxEntries}. Remove files the function does not need (tests, docs, dev dependencies).`);
  }
  const entries: CatalogEntry[] = [];
  const seen = new Map<string, string>(); // normalized path → raw name
  const folders = new Set<string>();
  const ranges: Array<{ start: number; end: number; name: string }> = [];
  let declaredTotal = 0;

  await readEntries(zip, async (entry) => {
    const raw = entry.fileNameRaw;
    if (raw.includes(0)) throw reject('UNSAFE_PATH', `An entry name contains a NUL byte (${JSON.stringify(raw.toString('latin1'))}); re-create the ZIP.`);
    const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, true);
    const { path, isDirectory } = normalizeEntryPath(name, limits.maxPathBytes);

    const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
    if (mode === S_IFLNK) {
      throw reject('SYMLINK_ENTRY', `Entry ${JSON.stringify(name)} is a symbolic link; links are not accepted. Replace it with the file it points to (\`zip -r\` without \`-y\`).`, name);
    }
    if (mode !== 0 && mode !== S_IFREG && mode !== S_IFDIR) {
      throw reject('SPECIAL_FILE_ENTRY', `Entry ${JSON.stringify(name)} is not a regular file or folder (Unix type ${mode.toString(8)}); remove it.`, name);
    }
    if (entry.generalPurposeBitFlag & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) {
      throw reject('ENCRYPTED_ENTRY', `Entry ${JSON.stringify(name)} is encrypted; upload the ZIP without a password.`, name);
    }
    if (entry.compressionMethod !== METHOD_STORED && entry.compressionMethod !== METHOD_DEFLATED) {
      throw reject('UNSUPPORTED_COMPRESSION', `Entry ${JSON.stringify(name)} uses compression method ${entry.compressionMethod}; only stored (0) and deflate (8) are accepted.`, name);
    }

    // Local header: same name, flags and method as the central directory, or tools disagree on what the ZIP holds.
    const local = await readLocalHeader(zip, entry);
    if (!Buffer.from(local.fileName).equals(raw)) {
      throw reject('HEADER_MISMATCH', `Entry ${JSON.stringify(name)} has another name in its local header (${JSON.stringify(Buffer.from(local.fileName).toString('latin1'))}); the ZIP is crafted or corrupt.`, name);
    }
    if (local.generalPurposeBitFlag & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) {
      throw reject('ENCRYPTED_ENTRY', `Entry ${JSON.stringify(name)} is encrypted; upload the ZIP without a password.`, name);
    }
    if (local.compressionMethod !== entry.compressionMethod) {
      throw reject('HEADER_MISMATCH', `Entry ${JSON.stringify(name)} names another compression method in its local header; the ZIP is crafted or corrupt.`, name);
    }
    ranges.push({ start: entry.relativeOffsetOfLocalHeader, end: local.fileDataStart + entry.compressedSize, name });

    if (isDirectory) {
      if (path !== '') folders.add(path);
      return;
    }
    const previous = seen.get(path);
    if (previous !== undefined) {
      throw reject('DUPLICATE_ENTRY', `Entries ${JSON.stringify(previous)} and ${JSON.stringify(name)} are the same file (${JSON.stringify(path)}); keep one.`, name);
    }
    seen.set(path, name);

    // Declared sizes can only make us refuse early; pass 2 counts the real bytes.
    declaredTotal += entry.uncompressedSize;
    if (declaredTotal > limits.maxTotalUncompressedBytes) {
      throw reject('UNCOMPRESSED_TOO_LARGE', `The files inflate to more than ${limits.maxTotalUncompressedBytes} bytes (by the ZIP's headers); make the function smaller.`, name);
    }
    checkRatio(entry.uncompressedSize, entry.compressedSize, limits, name);
    entries.push({ entry, path, executable: ((entry.externalFileAttributes >>> 16) & 0o111) !== 0, dataStart: local.fileDataStart });
  });

  // A file and a folder of one name cannot both exist once extracted.
  for (const path of seen.keys()) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) folders.add(parts.slice(0, i).join('/'));
  }
  for (const [path, name] of seen) {
    if (folders.has(path)) {
      throw reject('DUPLICATE_ENTRY', `${JSON.stringify(path)} is both a file (${JSON.stringify(name)}) and a folder in the ZIP; rename one.`, name);
    }
  }

  // Entries must not share bytes: overlapping local headers or data are how a small ZIP inflates to gigabytes.
  ranges.sort((a, b) => a.start - b.start);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i].start < ranges[i - 1].end) {
      throw reject('OVERLAPPING_ENTRIES', `Entries ${JSON.stringify(ranges[i - 1].name)} and ${JSON.stringify(ranges[i].name)} overlap in the ZIP (a zip bomb pattern); re-create the archive with a standard zip tool.`, ranges[i].name);
    }
  }

  if (entries.length === 0) throw reject('EMPTY_ARCHIVE', 'The ZIP holds only folders; it must hold the function\'s files.');

  const byFolded = new Map<string, string[]>();
  for (const e of entries) {
    const key = e.path.toLowerCase();
    byFolded.set(key, [...(byFolded.get(key) ?? []), e.path]);
  }
  const caseDuplicates = [...byFolded.values()].filter((paths) => paths.length > 1);
  if (caseDuplicates.length > 0 && limits.caseOnlyDuplicates === 'reject') {
    throw reject('DUPLICATE_ENTRY', `Paths that differ only by case: ${caseDuplicates.map((p) => p.join(' / ')).join('; ')}; rename them.`, caseDuplicates[0][1]);
  }
  return { entries, warnings: caseDuplicates.map((paths) => ({ code: 'CASE_ONLY_DUPLICATE', paths })) };
}

function checkRatio(inflated: number, compressed: number, limits: ZipLimits, name: string): void {
  if (inflated > limits.ratioGraceBytes && inflated > limits.maxCompressionRatio * Math.max(compressed, 1)) {
    throw reject('COMPRESSION_RATIO_EXCEEDED', `Entry ${JSON.stringify(name)} inflates more than ${limits.maxCompressionRatio} times its compressed size (a zip bomb pattern); the limit is ${limits.maxCompressionRatio}x.`, name);
  }
}

/**
 * Counts an entry's inflated bytes as they come: the archive's running total and the
 * entry's ratio are checked on every chunk, so a lying header cannot make it inflate further.
 */
export class EntryMeter {
  private bytes = 0;
  private crc = 0;
  private readonly hash = createHash('sha256');
  constructor(
    private readonly limits: ZipLimits,
    private readonly compressedSize: number,
    private readonly totals: { bytes: number },
    private readonly name: string,
  ) {}

  add(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.totals.bytes += chunk.length;
    if (this.totals.bytes > this.limits.maxTotalUncompressedBytes) {
      throw reject('UNCOMPRESSED_TOO_LARGE', `The files inflate to more than ${this.limits.maxTotalUncompressedBytes} bytes (counted while inflating ${JSON.stringify(this.name)}); make the function smaller.`, this.name);
    }
    checkRatio(this.bytes, this.compressedSize, this.limits, this.name);
    this.hash.update(chunk);
    this.crc = crc32(chunk, this.crc);
  }

  finish(expectedCrc: number): Verified {
    if (this.crc !== expectedCrc) {
      throw reject('CORRUPT_ENTRY', `Entry ${JSON.stringify(this.name)} fails its CRC-32 check; the ZIP is corrupt. Upload it again.`, this.name);
    }
    return { size: this.bytes, sha256: this.hash.digest('hex') };
  }
}

function openStream(zip: yauzl.ZipFile, e: CatalogEntry): Promise<Readable> {
  return new Promise((resolve, rejectPromise) => {
    zip.openReadStream(e.entry, (err, stream) => (err ? rejectPromise(mapArchiveError(err, e.path)) : resolve(stream)));
  });
}

async function readRaw(input: ZipInput, e: CatalogEntry): Promise<Buffer> {
  const end = e.dataStart + e.entry.compressedSize;
  const size = Buffer.isBuffer(input) ? input.length : input.size;
  if (end > size) throw reject('CORRUPT_ARCHIVE', `Entry ${JSON.stringify(e.path)}'s data runs past the end of the ZIP; re-create it.`, e.path);
  if (Buffer.isBuffer(input)) return input.subarray(e.dataStart, end);
  const bytes = await input.read(e.dataStart, end);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Small entries: one synchronous inflate whose output zlib caps at the declared size (pass 1 checked it against the limits). */
function inflateSync(e: CatalogEntry, raw: Buffer): Buffer {
  const declared = e.entry.uncompressedSize;
  if (e.entry.compressionMethod === METHOD_STORED) return raw;
  let out: Buffer;
  try {
    out = inflateRawSync(raw, { maxOutputLength: Math.max(1, declared) });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw mapArchiveError(new Error(`too many bytes: inflates to more than the ${declared} declared`), e.path);
    }
    throw mapArchiveError(err as Error, e.path);
  }
  if (out.length !== declared) throw mapArchiveError(new Error(`not enough bytes: ${out.length} of the ${declared} declared`), e.path);
  return out;
}

/** Inflates one entry through the meter; `onChunk` sees each counted chunk. */
async function inflate(
  { zip, input, limits, syncMax }: Inflater, e: CatalogEntry, totals: { bytes: number }, onChunk?: (chunk: Buffer) => void,
): Promise<Verified> {
  const meter = new EntryMeter(limits, e.entry.compressedSize, totals, e.path);
  if (e.entry.compressedSize <= syncMax && e.entry.uncompressedSize <= syncMax) {
    const out = inflateSync(e, await readRaw(input, e));
    meter.add(out);
    onChunk?.(out);
    return meter.finish(e.entry.crc32);
  }
  const stream = await openStream(zip, e);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      meter.add(chunk);
      onChunk?.(chunk);
    }
  } catch (err) {
    stream.destroy();
    throw mapArchiveError(err as Error, e.path);
  }
  return meter.finish(e.entry.crc32);
}

/** Pass 3: inflate each entry into one buffer and write it, a bounded number of bytes in flight. */
async function writeAll(
  inflater: Inflater,
  entries: readonly CatalogEntry[],
  options: ExtractOptions,
  write: (e: CatalogEntry, bytes: Buffer) => Promise<void>,
): Promise<void> {
  const concurrency = Math.max(1, options.writeConcurrency ?? 8);
  const budget = options.writeBufferBytes ?? 32 * 1024 * 1024;
  const inFlight = new Set<Promise<void>>();
  let inFlightBytes = 0;
  let failure: unknown;
  const totals = { bytes: 0 };
  for (const e of entries) {
    const size = e.entry.uncompressedSize; // equal to the inflated size: pass 2 and validateEntrySizes checked it
    while (failure === undefined && inFlight.size > 0 && (inFlight.size >= concurrency || inFlightBytes + size > budget)) {
      await Promise.race(inFlight);
    }
    if (failure !== undefined) break;
    const bytes = Buffer.allocUnsafe(size);
    let at = 0;
    await inflate(inflater, e, totals, (chunk) => { at += chunk.copy(bytes, at); });
    inFlightBytes += size;
    const p: Promise<void> = write(e, bytes.subarray(0, at))
      .catch((err: unknown) => { failure ??= err; })
      .finally(() => { inFlight.delete(p); inFlightBytes -= size; });
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure;
}
