import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { deflateRawSync } from 'node:zlib';
import * as yauzl from 'yauzl';
import * as yazl from 'yazl';
import {
  assembleZip, centralHeader, craftZip, encode, localHeader, MemorySink, RawEntry, yazlZip,
} from './zip-corpus';
import {
  BuildInput, BuildRejectedError, EntryMeter, ExtractOptions, inspectAndExtract, ZipInput, ZipRangeSource,
} from '../../functions/build-pipeline/extract-logic';
import { handlerRequirement, normalizeEntryPath } from '../../functions/build-pipeline/zip-paths';
import {
  BuildFailureReasonCode, DEFAULT_ZIP_LIMITS, ZipLimits,
} from '../../lib/build-pipeline/contract';

const NODE: BuildInput = { runtime: 'nodejs24.x' };
const INDEX: RawEntry = { name: 'index.js', data: Buffer.from('exports.handler = async () => 1;\n') };
/** The two inflate paths: one synchronous capped call for small entries (default), the metered stream for large ones. */
const PATHS: Array<[string, ExtractOptions]> = [['sync inflate', {}], ['streamed inflate', { syncInflateMaxBytes: 0 }]];
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Runs the extraction expecting a rejection; returns it after checking the sink got nothing. */
async function rejected(
  zip: ZipInput, reason: BuildFailureReasonCode, message: RegExp, build: BuildInput = NODE, options: ExtractOptions = {},
): Promise<BuildRejectedError> {
  const sink = new MemorySink();
  const error = await inspectAndExtract(zip, build, sink, options).then(
    () => { throw new Error(`expected ${reason}, the archive was accepted`); },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BuildRejectedError);
  const r = error as BuildRejectedError;
  expect({ reason: r.reason, message: r.message }).toEqual({ reason, message: expect.stringMatching(message) });
  // Validation is a full pass before any write: a rejected archive writes nothing at all.
  expect(sink.calls).toEqual([]);
  return r;
}

describe('happy path', () => {
  const files = {
    'index.js': 'exports.handler = require("./src/lib/util").run;\n',
    'src/lib/util.js': 'exports.run = async () => "ok";\n'.repeat(50),
    'src/lib/deep/er/data.json': JSON.stringify({ a: [1, 2, 3] }),
    'assets/blob.bin': randomBytes(200_000),
    'empty.txt': '',
    'bin/tool': '#!/bin/sh\necho hi\n',
  };

  test.each(PATHS)('nested folders: files, sizes and SHA-256 in the manifest match Node crypto; manifest written last (%s)', async (_, options) => {
    const zip = await yazlZip([
      { name: 'src/', directory: true },
      { name: 'src/lib/', directory: true },
      ...Object.entries(files).map(([name, data]) => ({ name, data, mode: name === 'bin/tool' ? 0o100755 : 0o100644 })),
    ]);
    const sink = new MemorySink();
    const manifest = await inspectAndExtract(zip, NODE, sink, options);

    const expected = Object.entries(files).map(([path, data]) => ({
      path, size: Buffer.byteLength(data), sha256: sha256(Buffer.from(data)), executable: path === 'bin/tool',
    })).sort((a, b) => (a.path < b.path ? -1 : 1));
    expect(manifest).toEqual({
      version: 1,
      runtime: 'nodejs24.x',
      handler: 'index.handler',
      handlerFile: 'index.js',
      fileCount: 6,
      totalBytes: expected.reduce((n, f) => n + f.size, 0),
      archiveBytes: zip.length,
      files: expected,
      warnings: [],
    });
    for (const [path, data] of Object.entries(files)) expect(sink.files.get(path)).toEqual(Buffer.from(data));
    expect(sink.calls.at(-1)).toBe('manifest');
    expect(sink.calls.filter((c) => c.startsWith('file:'))).toHaveLength(6);
    expect(sink.manifest).toBe(manifest);
  });

  test.each(PATHS)('a random-access source (ranged reads, as from S3) gives the same manifest (%s)', async (_, options) => {
    const zip = await yazlZip(Object.entries(files).map(([name, data]) => ({ name, data })));
    const reads: Array<[number, number]> = [];
    const source: ZipRangeSource = {
      size: zip.length,
      read: async (start, end) => { reads.push([start, end]); return zip.subarray(start, end); },
    };
    const fromRanges = await inspectAndExtract(source, NODE, new MemorySink(), options);
    const fromBuffer = await inspectAndExtract(zip, NODE, new MemorySink());
    expect({ ...fromRanges, archiveBytes: 0 }).toEqual({ ...fromBuffer, archiveBytes: 0 });
    expect(reads.every(([s, e]) => e - s <= 1024 * 1024 && e <= zip.length)).toBe(true);
  });

  test('"./a", "a/./b" and "a//b" names are normalized; the root folder entry "./" is ignored', async () => {
    const zip = craftZip([{ name: './' }, { name: './index.js', data: Buffer.from('x') }, { name: 'lib//x/./y.js', data: Buffer.from('y') }]);
    const sink = new MemorySink();
    const manifest = await inspectAndExtract(zip, NODE, sink);
    expect(manifest.files.map((f) => f.path)).toEqual(['index.js', 'lib/x/y.js']);
  });

  test('a nested .zip is an opaque file: not opened, its own bomb never inflated', async () => {
    const innerBomb = craftZip([{ name: 'zeros.bin', data: Buffer.alloc(20 * 1024 * 1024) }]);
    const zip = await yazlZip([{ name: 'index.js', data: 'x' }, { name: 'vendor/inner.zip', data: innerBomb, compress: false }]);
    const manifest = await inspectAndExtract(zip, NODE, new MemorySink());
    expect(manifest.files.find((f) => f.path === 'vendor/inner.zip')!.size).toBe(innerBomb.length);
    expect(manifest.totalBytes).toBe(innerBomb.length + 1);
    expect(innerBomb.length).toBeLessThan(100_000);
  });

  test('writes are bounded: at most writeConcurrency in flight, and one entry when the buffer budget is small', async () => {
    const many = await yazlZip([INDEX, ...Array.from({ length: 40 }, (_, i) => ({ name: `f/${i}.txt`, data: randomBytes(10_000) }))]
      .map((f) => ({ name: typeof f.name === 'string' ? f.name : '', data: f.data })));
    const wide = new MemorySink(5);
    await inspectAndExtract(many, NODE, wide, { writeConcurrency: 4 });
    expect(wide.maxInFlight).toBe(4);
    const narrow = new MemorySink(5);
    await inspectAndExtract(many, NODE, narrow, { writeConcurrency: 4, writeBufferBytes: 10_000 });
    expect(narrow.maxInFlight).toBe(1);
    expect(narrow.files.size).toBe(41);
  });

  test('real-world shapes pass: data descriptors (streamed entries, bit 3) and ZIP64 records', async () => {
    const zip = new yazl.ZipFile();
    zip.addReadStream(Readable.from([Buffer.from('exports.handler = 1;')]), 'index.js', { mtime: new Date(0) });
    zip.addBuffer(Buffer.alloc(100_000, 7), 'big/seven.bin', { forceZip64Format: true, mtime: new Date(0) });
    zip.end();
    const chunks: Buffer[] = [];
    for await (const c of zip.outputStream as AsyncIterable<Buffer>) chunks.push(c);
    const manifest = await inspectAndExtract(Buffer.concat(chunks), NODE, new MemorySink());
    expect(manifest.files.map((f) => [f.path, f.size])).toEqual([['big/seven.bin', 100_000], ['index.js', 20]]);
  });

  test('a sink failure fails the build and the manifest is never written', async () => {
    const zip = await yazlZip([{ name: 'index.js', data: 'x' }, { name: 'a.js', data: 'a' }, { name: 'b.js', data: 'b' }]);
    const sink = new MemorySink(0, 'a.js');
    await expect(inspectAndExtract(zip, NODE, sink)).rejects.toThrow('sink refused a.js');
    expect(sink.manifest).toBeUndefined();
  });

  test('case-only duplicates are reported as a warning by default, rejected on request', async () => {
    const zip = await yazlZip([INDEX, { name: 'Readme.md', data: 'a' }, { name: 'README.md', data: 'b' }].map((f) => ({ name: String(f.name), data: f.data })));
    const manifest = await inspectAndExtract(zip, NODE, new MemorySink());
    expect(manifest.warnings).toEqual([{ code: 'CASE_ONLY_DUPLICATE', paths: ['Readme.md', 'README.md'] }]);
    await rejected(zip, 'DUPLICATE_ENTRY', /differ only by case: Readme\.md \/ README\.md/, NODE, { limits: { caseOnlyDuplicates: 'reject' } });
  });
});

describe('handler file per runtime (contract RUNTIME_HANDLER_RULES)', () => {
  const zipOf = (...names: string[]) => craftZip(names.map((name) => ({ name, data: Buffer.from('x') })));

  test.each([
    ['nodejs20.x', undefined, ['index.js'], 'index.js'],
    ['nodejs22.x', undefined, ['index.mjs'], 'index.mjs'],
    ['nodejs24.x', 'src/app.handler', ['src/app.cjs', 'index.js'], 'src/app.cjs'],
    ['python3.12', undefined, ['lambda_function.py'], 'lambda_function.py'],
    ['python3.13', 'pkg.mod.handler', ['pkg/mod.py'], 'pkg/mod.py'],
    ['python3.13', 'pkg/mod.handler', ['pkg/mod.py'], 'pkg/mod.py'],
    ['provided.al2023', undefined, ['bootstrap'], 'bootstrap'],
  ])('%s handler %s finds %j', async (runtime, handler, names, handlerFile) => {
    const manifest = await inspectAndExtract(zipOf(...names), { runtime, handler }, new MemorySink());
    expect(manifest.handlerFile).toBe(handlerFile);
  });

  test('missing: names the files needed, and hints at a zipped folder', async () => {
    await rejected(zipOf('build/index.js', 'build/lib.js'), 'HANDLER_FILE_MISSING',
      /nodejs24\.x with handler "index\.handler" needs "index\.js" or "index\.mjs" or "index\.cjs".*The archive has "build\/index\.js": zip the contents of that folder/);
    await rejected(zipOf('app.py'), 'HANDLER_FILE_MISSING', /needs "lambda_function\.py"/, { runtime: 'python3.12' });
    await rejected(zipOf('index.ts'), 'HANDLER_FILE_MISSING', /Add the file or set the handler/);
    // a folder is not a file
    await rejected(craftZip([{ name: 'index.js/' }, { name: 'x.js', data: Buffer.from('x') }]), 'HANDLER_FILE_MISSING', /needs "index\.js"/);
  });

  test('unsupported runtime and invalid handler settings', async () => {
    const zip = zipOf('index.js');
    await rejected(zip, 'UNSUPPORTED_RUNTIME', /"java21" is not supported; use one of nodejs20\.x/, { runtime: 'java21' });
    await rejected(zip, 'UNSUPPORTED_RUNTIME', /not supported/, { runtime: '__proto__' });
    for (const handler of ['../x.handler', 'index', '/abs.handler', 'a b.handler', 'a//b.handler']) {
      await rejected(zip, 'INVALID_HANDLER', /is not valid for nodejs24\.x/, { runtime: 'nodejs24.x', handler });
    }
    expect(handlerRequirement('python3.12', 'a.b.c.fn').candidates).toEqual(['a/b/c.py']);
  });
});

describe('unsafe paths', () => {
  test.each([
    ['../evil.js', /contains a "\.\." segment/],
    ['a/../../evil.js', /contains a "\.\." segment/],
    ['a/b/..', /contains a "\.\." segment/],
    ['/etc/cron.d/evil', /is an absolute path/],
    ['C:/Windows/evil.js', /starts with a drive letter/],
    ['c:evil.js', /starts with a drive letter/],
    ['..\\..\\evil.js', /contains a backslash/],
    ['a\\b.js', /contains a backslash/],
    ['a\u0001.js', /control character/],
    ['a\n.js', /control character/],
    [`${'d/'.repeat(300)}x.js`, /longer than 512 bytes/],
    [`${'x'.repeat(256)}.js`, /segment over 255 bytes/],
  ])('%j → UNSAFE_PATH', async (name, why) => {
    const err = await rejected(craftZip([INDEX, { name, data: Buffer.from('evil') }]), 'UNSAFE_PATH', why);
    expect(err.message).toMatch(/Paths in the ZIP must be relative to its root/);
  });

  test('a NUL byte in the raw name (it would cut the path short in C code)', async () => {
    await rejected(craftZip([INDEX, { name: Buffer.from('index.js\0.txt', 'latin1'), data: Buffer.from('x') }]), 'UNSAFE_PATH', /NUL byte/);
  });

  test('normalizeEntryPath: traversal after a folder, and NFC normalization', () => {
    expect(() => normalizeEntryPath('ok/../../x', 512)).toThrow(BuildRejectedError);
    expect(normalizeEntryPath('cafe\u0301/x.js', 512).path).toBe('caf\u00e9/x.js');
  });
});

describe('entry types, duplicates, flags', () => {
  test('symlink entries (Unix mode S_IFLNK), made by yazl', async () => {
    const zip = await yazlZip([{ name: 'index.js', data: 'x' }, { name: 'secrets', data: '/etc/passwd', mode: 0o120777 }]);
    await rejected(zip, 'SYMLINK_ENTRY', /"secrets" is a symbolic link; links are not accepted/);
  });

  test('FIFO and device entries', async () => {
    await rejected(craftZip([INDEX, { name: 'pipe', mode: 0o010644 }]), 'SPECIAL_FILE_ENTRY', /not a regular file or folder \(Unix type 10000\)/);
    await rejected(craftZip([INDEX, { name: 'dev', mode: 0o020644 }]), 'SPECIAL_FILE_ENTRY', /Unix type 20000/);
  });

  test.each([
    [['a/b.js', 'a/b.js']],
    [['a/b.js', 'a//b.js']],
    [['./a/b.js', 'a/b.js']],
    [['a/./b.js', 'a/b.js']],
    [['caf\u00e9.js', 'cafe\u0301.js']],
  ])('duplicates after normalization: %j', async (names) => {
    const zip = craftZip([INDEX, ...names.map((name) => ({ name, data: Buffer.from(name) }))]);
    await rejected(zip, 'DUPLICATE_ENTRY', /are the same file .*; keep one/);
  });

  test('a name that is both a file and a folder', async () => {
    await rejected(craftZip([INDEX, { name: 'lib', data: Buffer.from('x') }, { name: 'lib/x.js', data: Buffer.from('y') }]),
      'DUPLICATE_ENTRY', /"lib" is both a file .* and a folder/);
    await rejected(craftZip([INDEX, { name: 'lib/' }, { name: 'lib', data: Buffer.from('x') }]), 'DUPLICATE_ENTRY', /both a file/);
  });

  test('encrypted entries: bit 0 in both headers, only in the local header, strong encryption (bit 6)', async () => {
    await rejected(craftZip([INDEX, { name: 'a.js', data: Buffer.from('x'), flags: 0x801 }]), 'ENCRYPTED_ENTRY', /"a\.js" is encrypted; upload the ZIP without a password/);
    await rejected(craftZip([INDEX, { name: 'a.js', data: Buffer.from('x'), localFlags: 0x801 }]), 'ENCRYPTED_ENTRY', /encrypted/);
    await rejected(craftZip([INDEX, { name: 'a.js', data: Buffer.from('x'), flags: 0x841 }]), 'ENCRYPTED_ENTRY', /encrypted/);
  });

  test('unsupported compression (bzip2 = 12) and a local header naming another method', async () => {
    await rejected(craftZip([INDEX, { name: 'a.js', data: Buffer.from('x'), method: 12, payload: Buffer.from('BZh') }]), 'UNSUPPORTED_COMPRESSION', /method 12; only stored \(0\) and deflate \(8\)/);
    await rejected(craftZip([INDEX, { name: 'a.js', data: Buffer.from('x'), localMethod: 0 }]), 'HEADER_MISMATCH', /another compression method/);
  });

  test('a local header naming another file than the central directory', async () => {
    await rejected(craftZip([INDEX, { name: 'safe.js', localName: '../../evil.js', data: Buffer.from('x') }]), 'HEADER_MISMATCH', /another name in its local header \("\.\.\/\.\.\/evil\.js"\)/);
  });

  test('more entries than the limit', async () => {
    const zip = craftZip([INDEX, ...Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, data: Buffer.from('x') }))]);
    await rejected(zip, 'TOO_MANY_ENTRIES', /has 6 entries; the limit is 5/, NODE, { limits: { maxEntries: 5 } });
  });
});

describe('not a ZIP, empty, corrupt', () => {
  test.each([
    ['text', Buffer.from('hello, this is not a zip')],
    ['zero bytes', Buffer.alloc(0)],
    ['random bytes', randomBytes(4096)],
    ['a gzip file', Buffer.from('1f8b0800000000000003030000000000000000', 'hex')],
  ])('%s → NOT_A_ZIP', async (_, bytes) => {
    await rejected(bytes, 'NOT_A_ZIP', /not a ZIP archive/);
  });

  test('an archive cut short → CORRUPT_ARCHIVE or NOT_A_ZIP', async () => {
    const zip = await yazlZip([{ name: 'index.js', data: randomBytes(5000) }]);
    await rejected(zip.subarray(0, zip.length - 30), 'NOT_A_ZIP', /not a ZIP/);
    // central directory intact, data missing: offsets point past the end
    const cut = Buffer.concat([zip.subarray(0, 100), zip.subarray(zip.length - 22 - 46 - 8)]);
    const err = await inspectAndExtract(cut, NODE, new MemorySink()).catch((e: BuildRejectedError) => e);
    expect(['CORRUPT_ARCHIVE', 'NOT_A_ZIP']).toContain((err as BuildRejectedError).reason);
  });

  test('empty archive, and folders only', async () => {
    await rejected(craftZip([]), 'EMPTY_ARCHIVE', /The ZIP is empty/);
    await rejected(craftZip([{ name: 'a/' }, { name: 'a/b/' }]), 'EMPTY_ARCHIVE', /only folders/);
  });

  test.each(PATHS)('wrong CRC-32, broken and truncated deflate data → CORRUPT_ENTRY (%s)', async (_, options) => {
    await rejected(craftZip([INDEX, { name: 'a.js', data: Buffer.from('hello'), crc: 1234 }]), 'CORRUPT_ENTRY', /"a\.js" fails its CRC-32 check/, NODE, options);
    await rejected(craftZip([INDEX, { name: 'a.js', data: Buffer.from('hello'), payload: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]) }]),
      'CORRUPT_ENTRY', /"a\.js" cannot be inflated/, NODE, options);
    const data = randomBytes(3000);
    const truncated = deflateRawSync(data).subarray(0, 1000);
    await rejected(craftZip([INDEX, { name: 'a.js', data, payload: truncated }]), 'CORRUPT_ENTRY', /"a\.js" cannot be inflated/, NODE, options);
  });

  test('upload over maxUploadBytes', async () => {
    await rejected(craftZip([INDEX]), 'ARCHIVE_TOO_LARGE', /bytes; the limit is 100 bytes/, NODE, { limits: { maxUploadBytes: 100 } });
  });
});

describe('zip bombs', () => {
  const zeros = Buffer.alloc(16 * 1024 * 1024);
  const limits: Partial<ZipLimits> = { maxCompressionRatio: 100, ratioGraceBytes: 64 * 1024 };

  test('ratio bomb with honest headers (16 MiB of zeros in ~16 KB), refused from the headers before inflating', async () => {
    const zip = craftZip([INDEX, { name: 'zeros.bin', data: zeros }]);
    expect(zip.length).toBeLessThan(32 * 1024);
    await rejected(zip, 'COMPRESSION_RATIO_EXCEEDED', /"zeros\.bin" inflates more than 100 times .* \(a zip bomb pattern\)/, NODE, { limits });
  });

  test('total over the limit with honest headers', async () => {
    const zip = craftZip([INDEX, { name: 'a.bin', data: randomBytes(600_000) }, { name: 'b.bin', data: randomBytes(600_000) }]);
    await rejected(zip, 'UNCOMPRESSED_TOO_LARGE', /more than 1000000 bytes/, NODE, { limits: { maxTotalUncompressedBytes: 1_000_000 } });
  });

  test.each(PATHS)('lying headers (declares 1 KB, inflates to 16 MiB): stopped while inflating, in bounded time (%s)', async (_, options) => {
    const zip = craftZip([INDEX, { name: 'zeros.bin', data: zeros, declaredUncompressed: 1024 }]);
    const started = Date.now();
    await rejected(zip, 'ENTRY_SIZE_MISMATCH', /"zeros\.bin" inflates to another size than its header says \(too many bytes/, NODE, { ...options, limits });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test.each(PATHS)('lying headers the other way (declares more than it holds) (%s)', async (_, options) => {
    const zip = craftZip([INDEX, { name: 'a.js', data: Buffer.from('hello'), declaredUncompressed: 50 }]);
    await rejected(zip, 'ENTRY_SIZE_MISMATCH', /not enough bytes/, NODE, options);
    // stored entries: yauzl compares the two sizes up front
    await rejected(craftZip([INDEX, { name: 'b.js', method: 0, data: Buffer.from('hello'), declaredUncompressed: 5000 }]), 'ENTRY_SIZE_MISMATCH', /size mismatch/);
  });

  test('the meter counts real bytes while inflating, whatever the headers said', () => {
    const lim: ZipLimits = { ...DEFAULT_ZIP_LIMITS, maxTotalUncompressedBytes: 10_000, maxCompressionRatio: 10, ratioGraceBytes: 1000 };
    const totals = { bytes: 9_000 };
    const meter = new EntryMeter(lim, 1_000_000, totals, 'big.bin');
    meter.add(Buffer.alloc(900));
    expect(() => meter.add(Buffer.alloc(200))).toThrow(expect.objectContaining({ reason: 'UNCOMPRESSED_TOO_LARGE' }));
    const ratio = new EntryMeter(lim, 100, { bytes: 0 }, 'bomb.bin');
    ratio.add(Buffer.alloc(1000)); // within the grace
    expect(() => ratio.add(Buffer.alloc(1))).toThrow(expect.objectContaining({ reason: 'COMPRESSION_RATIO_EXCEEDED' }));
  });

  describe('overlapping entries', () => {
    /**
     * Entry A is stored and its data is B's whole local record (header + data): A's bytes
     * quote B's, so every byte of B's data is read twice (Fifield's overlapping bomb, one level).
     */
    function quotedOverlap(): Buffer {
      const b = encode({ name: 'b.bin', data: Buffer.alloc(5000, 1) });
      const bRecord = Buffer.concat([localHeader(b), b.payload]);
      const a = encode({ name: 'a.bin', method: 0, data: bRecord });
      const aHeader = localHeader(a);
      const index = encode(INDEX);
      const indexRecord = Buffer.concat([localHeader(index), index.payload]);
      const body = Buffer.concat([indexRecord, aHeader, bRecord]);
      return assembleZip(body, [
        centralHeader(index, 0),
        centralHeader(a, indexRecord.length),
        centralHeader(b, indexRecord.length + aHeader.length),
      ]);
    }

    test('yauzl alone reads every entry of an overlapping archive without complaint', async () => {
      const zip = await yauzl.fromBufferPromise(quotedOverlap(), { lazyEntries: true, validateEntrySizes: true });
      const names: string[] = [];
      await new Promise<void>((resolve, reject) => {
        zip.on('error', reject);
        zip.on('end', resolve);
        zip.on('entry', (entry: yauzl.Entry) => {
          zip.openReadStream(entry, (err, stream) => {
            if (err) return reject(err);
            stream.on('error', reject);
            stream.on('end', () => { names.push(entry.fileName); zip.readEntry(); });
            stream.resume();
          });
        });
        zip.readEntry();
      });
      expect(names).toEqual(['index.js', 'a.bin', 'b.bin']);
    });

    test('quoted overlap → OVERLAPPING_ENTRIES', async () => {
      await rejected(quotedOverlap(), 'OVERLAPPING_ENTRIES', /"a\.bin" and "b\.bin" overlap in the ZIP \(a zip bomb pattern\)/);
    });

    test('many central entries sharing one local record → HEADER_MISMATCH or OVERLAPPING_ENTRIES', async () => {
      const kernel = encode({ name: 'k.bin', data: Buffer.alloc(100_000) });
      const index = encode(INDEX);
      const indexRecord = Buffer.concat([localHeader(index), index.payload]);
      const body = Buffer.concat([indexRecord, localHeader(kernel), kernel.payload]);
      const sameName = assembleZip(body, [centralHeader(index, 0), ...Array.from({ length: 3 }, () => centralHeader(kernel, indexRecord.length))]);
      const err = await inspectAndExtract(sameName, NODE, new MemorySink()).catch((e: BuildRejectedError) => e);
      expect(['DUPLICATE_ENTRY', 'OVERLAPPING_ENTRIES']).toContain((err as BuildRejectedError).reason);
      const renamed = assembleZip(body, [centralHeader(index, 0), centralHeader(kernel, indexRecord.length),
        centralHeader(encode({ name: 'k2.bin', data: Buffer.alloc(100_000) }), indexRecord.length)]);
      await rejected(renamed, 'HEADER_MISMATCH', /"k2\.bin" has another name in its local header/);
    });
  });
});

describe('throughput', () => {
  test.each(PATHS)('a 20 MB archive of 2,000 files: measured MB/s (ZIP bytes) through all three passes (%s)', async (label, options) => {
    const zip = await yazlZip([{ name: 'index.js', data: 'x' },
      ...Array.from({ length: 2000 }, (_, i) => ({ name: `pkg/${i % 50}/file${i}.bin`, data: Buffer.concat([randomBytes(5_000), Buffer.alloc(5_000, i % 256)]) }))]);
    const started = process.hrtime.bigint();
    const manifest = await inspectAndExtract(zip, NODE, new MemorySink(), options);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    expect(manifest.fileCount).toBe(2001);
    // eslint-disable-next-line no-console
    console.log(`build-pipeline extract (${label}): ${(zip.length / 1e6).toFixed(1)} MB zip, ${(manifest.totalBytes / 1e6).toFixed(1)} MB inflated, ${manifest.fileCount} files in ${seconds.toFixed(2)} s = ${(zip.length / 1e6 / seconds).toFixed(1)} MB/s of ZIP`);
  });
});
