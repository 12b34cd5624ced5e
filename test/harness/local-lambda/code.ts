import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as yauzl from 'yauzl';
import { LambdaError } from './errors';

/** Lambda's limits on a ZIP package (direct upload and unzipped size). */
export const MAX_ZIP_UPLOAD_BYTES = 50 * 1024 * 1024;
export const MAX_UNZIPPED_BYTES = 262_144_000;

export interface CodeSource {
  readonly ZipFile?: string;
  readonly S3Bucket?: string;
  readonly S3Key?: string;
  readonly S3ObjectVersion?: string;
}

export interface StoredCode {
  /** Where the package was unzipped; never written to again (a version's code is immutable). */
  readonly dir: string;
  /** base64 SHA-256 of the ZIP, as Lambda reports it. */
  readonly sha256: string;
  readonly size: number;
  /** Where the code came from, for GetFunction's `Code.Location`. */
  readonly location: string;
}

const invalidCode = (message: string) => new LambdaError('InvalidParameterValueException', message);

/** The ZIP from the request (base64 ZipFile) or from the local S3 (path-style GET). */
export async function fetchZip(source: CodeSource | undefined, s3Endpoint: string): Promise<{ zip: Buffer; location: string }> {
  if (source?.ZipFile) {
    const zip = Buffer.from(source.ZipFile, 'base64');
    if (zip.length > MAX_ZIP_UPLOAD_BYTES) throw new LambdaError('RequestTooLargeException', 'Request must be smaller than 70167211 bytes for the CreateFunction operation');
    return { zip, location: 'inline:ZipFile' };
  }
  if (!source?.S3Bucket || !source.S3Key) throw invalidCode('Please provide a source for function code.');
  const key = source.S3Key.split('/').map(encodeURIComponent).join('/');
  const version = source.S3ObjectVersion ? `?versionId=${encodeURIComponent(source.S3ObjectVersion)}` : '';
  const url = `${s3Endpoint}/${encodeURIComponent(source.S3Bucket)}/${key}${version}`;
  const response = await fetch(url);
  if (!response.ok) {
    // AWS wraps the S3 failure in the message, so a caller can tell a missing key from a bad request.
    const code = /<Code>([^<]+)<\/Code>/.exec(await response.text())?.[1] ?? `HTTP ${response.status}`;
    throw invalidCode(`Error occurred while GetObject. S3 Error Code: ${code}. S3 Error Message: s3://${source.S3Bucket}/${source.S3Key}`);
  }
  return { zip: Buffer.from(await response.arrayBuffer()), location: url };
}

function openZip(zip: Buffer): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    // yauzl's defaults reject absolute names, `..` segments and backslashes; sizes are checked as read.
    yauzl.fromBuffer(zip, { lazyEntries: true, validateEntrySizes: true, strictFileNames: true }, (err, file) =>
      (err ? reject(invalidCode(`Could not unzip uploaded file. Please check your file, then try to upload again. (${err.message})`)) : resolve(file!)));
  });
}

/** Unzips into a fresh temp dir; refuses entries that would land outside it, symlinks, and oversized packages. */
async function unzipInto(zip: Buffer, dir: string): Promise<void> {
  const file = await openZip(zip);
  let total = 0;
  await new Promise<void>((resolve, reject) => {
    const fail = (error: Error) => { file.close(); reject(error); };
    file.on('error', (err: Error) => fail(invalidCode(`Could not unzip uploaded file: ${err.message}`)));
    file.on('end', () => resolve());
    file.on('entry', (entry: yauzl.Entry) => {
      const target = path.resolve(dir, entry.fileName);
      if (target !== dir && !target.startsWith(dir + path.sep)) return fail(invalidCode(`Unsafe path in the ZIP: ${entry.fileName}`));
      // eslint-disable-next-line no-bitwise -- the Unix file type lives in the high bits of the external attributes
      if (((entry.externalFileAttributes >>> 16) & 0o170000) === 0o120000) return fail(invalidCode(`Symbolic link in the ZIP: ${entry.fileName}`));
      total += entry.uncompressedSize;
      if (total > MAX_UNZIPPED_BYTES) return fail(invalidCode(`Unzipped size must be smaller than ${MAX_UNZIPPED_BYTES} bytes`));
      if (entry.fileName.endsWith('/')) {
        mkdirSync(target, { recursive: true });
        return file.readEntry();
      }
      mkdirSync(path.dirname(target), { recursive: true });
      file.openReadStream(entry, (err, stream) => {
        if (err) return fail(invalidCode(`Could not unzip ${entry.fileName}: ${err.message}`));
        pipeline(stream!, createWriteStream(target)).then(() => file.readEntry(), (e: Error) => fail(invalidCode(`Could not unzip ${entry.fileName}: ${e.message}`)));
      });
    });
    file.readEntry();
  });
}

/** Stores a package as Lambda does: hash and size of the ZIP, contents unzipped once. */
export async function storeCode(source: CodeSource | undefined, s3Endpoint: string, root: string): Promise<StoredCode> {
  const { zip, location } = await fetchZip(source, s3Endpoint);
  const dir = mkdtempSync(path.join(root, 'code-'));
  await unzipInto(zip, dir);
  return { dir, sha256: createHash('sha256').update(zip).digest('base64'), size: zip.length, location };
}

/** The root every stored package goes under, removed by close(). */
export const codeRoot = () => mkdtempSync(path.join(tmpdir(), 'local-lambda-'));
