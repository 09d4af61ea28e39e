// Types of project.mjs (plain JavaScript so that bench/footprint.mjs runs it without a build).

export declare const ROOT: string;

export declare function npmEnv(): Record<string, string>;

export declare function registryProblem(timeoutMs?: number): string | undefined;

export declare function packageDirs(): string[];

export declare function buildPackages(dirs?: readonly string[]): void;

export interface PackedFile {
  readonly path: string;
  readonly size: number;
}

export interface Packed {
  readonly name: string;
  readonly version: string;
  readonly filename: string;
  readonly integrity: string;
  readonly size: number;
  readonly unpackedSize: number;
  readonly files: readonly PackedFile[];
}

export declare function packAll(dest: string, dirs?: readonly string[]): Packed[];

export interface Tarball {
  readonly name: string;
  readonly integrity: string;
  readonly path: string;
}

export declare function consumerProject(
  tarballs: readonly Tarball[],
  deps: readonly string[],
  label?: string,
): { dir: string; reused: boolean };

export declare function sizeOf(path: string): { bytes: number; disk: number };

export interface Closure {
  /** Install paths (`node_modules/a/node_modules/b`). */
  readonly paths: string[];
  /** Package names, one per path (a package installed twice appears twice). */
  readonly names: string[];
  /** Sum of file sizes. */
  readonly bytes: number;
  /** Space on disk, as `du` counts it. */
  readonly disk: number;
  readonly missing: string[];
}

export declare function closureOf(dir: string, roots: readonly string[]): Closure;

export declare function installedPackages(dir: string): string[];

export declare function isRealDirectory(path: string): boolean;

export declare function projectView(dir: string, name: string, keep: readonly string[]): string;
