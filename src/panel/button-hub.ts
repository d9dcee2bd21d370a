import type { Logger } from '../lib/logger.ts';
import type { Debouncer } from './debouncer.ts';
import { checkName, type ButtonEvent, type ButtonListener } from './panel.ts';

/**
 * Listener registry and press waiters shared by the Buttons backends. Listeners are per instance (no globals); a
 * throwing listener is logged and the others still run (z2m lib/eventBus.ts wraps handlers the same way).
 */
export class ButtonHub {
  private readonly listeners = new Set<ButtonListener>();
  private readonly waiters = new Set<(e: ButtonEvent | undefined) => void>();

  constructor(private readonly logger: Logger) {}

  onEdge(listener: ButtonListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(e: ButtonEvent): void {
    this.logger.info({ button: e.button, pressed: e.pressed }, 'button');
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err: unknown) {
        this.logger.error({ err, button: e.button }, 'button listener threw');
      }
    }
    for (const w of [...this.waiters]) w(e);
  }

  waitForPress(names: readonly string[], signal?: AbortSignal): Promise<ButtonEvent | undefined> {
    if (signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const finish = (e: ButtonEvent | undefined): void => {
        this.waiters.delete(waiter);
        signal?.removeEventListener('abort', onAbort);
        resolve(e);
      };
      const waiter = (e: ButtonEvent | undefined): void => {
        if (e === undefined || (e.pressed && (names.length === 0 || names.includes(e.button)))) finish(e);
      };
      const onAbort = (): void => finish(undefined);
      this.waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** stop(): every waiter resolves undefined, every listener is removed */
  close(): void {
    for (const w of [...this.waiters]) w(undefined);
    this.listeners.clear();
  }
}

/**
 * What every debounced GPIO Buttons backend shares: edges go through the hub, a button's level is its debouncer's.
 * A backend opens its lines, fills `debouncers` and says whether it is open.
 */
export abstract class DebouncedButtons {
  readonly names: readonly string[];
  protected readonly hub: ButtonHub;
  protected readonly debouncers = new Map<string, Debouncer>();

  constructor(names: readonly string[], logger: Logger) {
    this.names = names;
    this.hub = new ButtonHub(logger);
  }

  /** false before start() and after stop(): a press wait then resolves undefined at once */
  protected abstract isOpen(): boolean;

  onEdge(listener: ButtonListener): () => void {
    return this.hub.onEdge(listener);
  }

  isPressed(name: string): boolean {
    checkName(this.names, name, 'button');
    return this.debouncers.get(name)?.level ?? false;
  }

  waitForPress(names: readonly string[], signal?: AbortSignal): Promise<ButtonEvent | undefined> {
    names.forEach((n) => checkName(this.names, n, 'button'));
    if (!this.isOpen()) return Promise.resolve(undefined);
    return this.hub.waitForPress(names, signal);
  }
}
