import {
  BuildFailureReason, BuildFailureReasonCode, HANDLER_SETTING_PATTERN, RUNTIME_HANDLER_RULES,
} from '../../lib/build-pipeline/contract';

/** A build the archive cannot pass; `reason` is the job's failure reason, `message` is for the user. */
export class BuildRejectedError extends Error {
  override readonly name: string = 'BuildRejectedError';
  constructor(readonly reason: BuildFailureReasonCode, message: string, readonly entry?: string) {
    super(message);
  }
}

const MAX_SEGMENT_BYTES = 255; // NAME_MAX on Lambda's Linux

export interface NormalizedPath {
  /** Forward slashes, no `.` or empty segments, NFC; empty for the root folder. */
  readonly path: string;
  readonly isDirectory: boolean;
}

const unsafe = (name: string, why: string) => new BuildRejectedError(
  BuildFailureReason.UNSAFE_PATH,
  `Entry ${JSON.stringify(name)} ${why}. Paths in the ZIP must be relative to its root, use "/" and stay inside it; re-create the archive from the function's folder (e.g. \`cd build && zip -r ../function.zip .\`).`,
  name,
);

/**
 * Checks an entry name and returns its normalized form, or throws UNSAFE_PATH. Rejected:
 * NUL and control characters, backslashes, absolute paths, drive letters, any `..` segment
 * (even one that would stay inside the root), over-long paths or segments.
 */
export function normalizeEntryPath(name: string, maxPathBytes: number): NormalizedPath {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return fail(unsafe(name, 'contains a NUL or control character'));
  if (name.includes('\\')) return fail(unsafe(name, 'contains a backslash (a Windows path?)'));
  if (name.startsWith('/')) return fail(unsafe(name, 'is an absolute path'));
  if (/^[A-Za-z]:/.test(name)) return fail(unsafe(name, 'starts with a drive letter'));
  const isDirectory = name.endsWith('/');
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return fail(unsafe(name, 'contains a ".." segment (path traversal)'));
  if (segments.some((s) => Buffer.byteLength(s) > MAX_SEGMENT_BYTES)) return fail(unsafe(name, `has a name segment over ${MAX_SEGMENT_BYTES} bytes`));
  const path = segments.join('/').normalize('NFC');
  if (!isDirectory && path === '') return fail(unsafe(name, 'has no file name'));
  if (Buffer.byteLength(path) > maxPathBytes) return fail(unsafe(name, `is longer than ${maxPathBytes} bytes`));
  return { path, isDirectory };
}

function fail(error: BuildRejectedError): never {
  throw error;
}

/** The handler setting and the archive paths that satisfy it, for a runtime. */
export interface HandlerRequirement {
  readonly runtime: string;
  readonly handler: string;
  /** Any one of these paths (from the ZIP's root) must be a file in the archive. */
  readonly candidates: readonly string[];
}

/**
 * Resolves which file a runtime needs (contract's RUNTIME_HANDLER_RULES): Node
 * `src/app.handler` → `src/app.js|.mjs|.cjs`; Python `pkg.mod.fn` or `pkg/mod.fn` →
 * `pkg/mod.py`; custom runtimes → `bootstrap`. Throws UNSUPPORTED_RUNTIME / INVALID_HANDLER.
 */
export function handlerRequirement(runtime: string, handler?: string): HandlerRequirement {
  const rule = Object.prototype.hasOwnProperty.call(RUNTIME_HANDLER_RULES, runtime) ? RUNTIME_HANDLER_RULES[runtime] : undefined;
  if (!rule) {
    throw new BuildRejectedError(BuildFailureReason.UNSUPPORTED_RUNTIME,
      `Runtime ${JSON.stringify(runtime)} is not supported; use one of ${Object.keys(RUNTIME_HANDLER_RULES).join(', ')}.`);
  }
  const setting = handler ?? rule.defaultHandler;
  if (rule.fixedFile) return { runtime, handler: setting, candidates: [rule.fixedFile] };
  const invalid = () => new BuildRejectedError(BuildFailureReason.INVALID_HANDLER,
    `Handler ${JSON.stringify(setting)} is not valid for ${runtime}: write it as <file path without extension>.<function> from the ZIP's root, e.g. ${JSON.stringify(rule.defaultHandler)}.`);
  if (!HANDLER_SETTING_PATTERN.test(setting)) throw invalid();
  let module = setting.slice(0, setting.lastIndexOf('.'));
  if (rule.dottedModules) module = module.replace(/\./g, '/');
  const segments = module.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) throw invalid();
  return { runtime, handler: setting, candidates: rule.extensions.map((ext) => `${module}${ext}`) };
}

/**
 * Throws HANDLER_FILE_MISSING unless one candidate is a file; the message names the
 * files needed and, when the archive holds one of them one folder down, says so (the
 * common mistake of zipping the folder instead of its contents).
 */
export function assertHandlerFile(requirement: HandlerRequirement, files: ReadonlySet<string>): string {
  const found = requirement.candidates.find((c) => files.has(c));
  if (found) return found;
  const nested = [...files].find((f) => requirement.candidates.some((c) => f.endsWith(`/${c}`)));
  const hint = nested
    ? ` The archive has ${JSON.stringify(nested)}: zip the contents of that folder, not the folder itself, or set the handler to match.`
    : ' Add the file or set the handler to the file that exports it.';
  throw new BuildRejectedError(BuildFailureReason.HANDLER_FILE_MISSING,
    `Runtime ${requirement.runtime} with handler ${JSON.stringify(requirement.handler)} needs ${requirement.candidates.map((c) => JSON.stringify(c)).join(' or ')} in the ZIP, and it has none.${hint}`);
}
