import { createHash } from 'node:crypto';
import { PassThrough, Readable, Transform } from 'node:stream';
import * as yauzl from 'yauzl';
import * as yazl from 'yazl';
import type { BuildManifest, ManifestFile, ZipRangeSource } from './extract-logic';
import { normalizeEntryPath } from './zip-paths';

/**
 * Every entry's time: 1980-01-01 00:00, the DOS epoch. yazl encodes DOS fields in local
 * time, so the date is made in local time, and `forceDosTimestamp` leaves out the Unix
 * timestamp field: the bytes are the same in every time zone.
 */
const FIXED_MTIME = new Date(1980, 0, 1, 0, 0, 0);
const EXECUTABLE_MODE = 0o100755;
const FILE_MODE = 0o100644;
/** zlib's default level: the same bytes for the same input on one zlib build (Lambda's Node). */
const COMPRESSION_LEVEL = 6;

class RangeReader extends yauzl.RandomAccessReader {
  constructor(private readonly source: ZipRangeSource) { super(); }
  override _readStreamForRange(start: number, end: number): Readable {
    const source = this.source;
    return Readable.from((async function* chunks() {
      for (let at = start; at < end; at += 1024 * 1024) {
        const bytes = await source.read(at, Math.min(end, at + 1024 * 1024));
        yield Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      }
    })());
  }
}

function open(source: ZipRangeSource): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => yauzl.fromRandomAccessReader(
    new RangeReader(source), source.size, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true },
    (err, zip) => (err ? reject(err) : resolve(zip)),
  ));
}

/** The archive's file entries by normalized path (extraction already refused anything else). */
function entriesByPath(zip: yauzl.ZipFile, maxPathBytes: number): Promise<Map<string, yauzl.Entry>> {
  const byPath = new Map<string, yauzl.Entry>();
  return new Promise((resolve, reject) => {
    zip.on('error', reject);
    zip.on('end', () => resolve(byPath));
    zip.on('entry', (entry: yauzl.Entry) => {
      const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
      const { path, isDirectory } = normalizeEntryPath(name, maxPathBytes);
      if (!isDirectory) byPath.set(path, entry);
      zip.readEntry();
    });
    zip.readEntry();
  });
}

/** Passes an entry's inflated bytes through, failing the stream unless they hash to the manifest's SHA-256. */
function verified(file: ManifestFile): Transform {
  const hash = createHash('sha256');
  return new Transform({
    transform(chunk: Buffer, _encoding, done) { hash.update(chunk); done(null, chunk); },
    flush(done) {
      const sha256 = hash.digest('hex');
      done(sha256 === file.sha256 ? null : new Error(`${file.path} inflated to another SHA-256 than at extraction`));
    },
  });
}

/**
 * The normalized deployment ZIP of an extracted archive, as a stream: the manifest's files
 * in its (sorted) order, fixed time, mode 0755 for executables and 0644 otherwise, deflate
 * at one level, no folders, no comments. The same files give the same bytes whatever the
 * upload's order, times, modes or compression. Entries are inflated one at a time from the
 * source and each is checked against the manifest's SHA-256; memory is yazl's and zlib's
 * buffers plus what the consumer holds (the stream is back-pressured).
 */
export async function deploymentZip(source: ZipRangeSource, manifest: BuildManifest, maxPathBytes: number): Promise<Readable> {
  const zip = await open(source);
  let byPath: Map<string, yauzl.Entry>;
  try {
    byPath = await entriesByPath(zip, maxPathBytes);
  } catch (err) {
    zip.close();
    throw err;
  }
  const missing = manifest.files.find((f) => !byPath.has(f.path));
  if (missing) {
    zip.close();
    throw new Error(`${missing.path} is in the manifest but not in the archive`);
  }
  const out = new PassThrough();
  const writer = new yazl.ZipFile();
  const fail = (err: Error) => { zip.close(); out.destroy(err); };
  writer.on('error', fail);
  for (const file of manifest.files) {
    const entry = byPath.get(file.path)!;
    writer.addReadStreamLazy(file.path, {
      mtime: FIXED_MTIME,
      forceDosTimestamp: true,
      mode: file.executable ? EXECUTABLE_MODE : FILE_MODE,
      compressionLevel: COMPRESSION_LEVEL,
      size: file.size,
    }, (cb) => zip.openReadStream(entry, (err, stream) => {
      if (err) return cb(err, undefined as unknown as Readable);
      const check = verified(file);
      stream.on('error', fail);
      check.on('error', fail);
      cb(null, stream.pipe(check));
    }));
  }
  writer.end();
  writer.outputStream.on('end', () => zip.close());
  return writer.outputStream.pipe(out);
}
