/**
 * A one-slot mailbox between a producer (the camera) and one consumer (the frame loop). `put` replaces an unread item,
 * so a slow consumer always gets the newest frame and memory is bounded by one pending frame; every replaced item is
 * counted and handed to `onDrop` (which wipes it: frames hold faces).
 * `take(signal)` resolves with the next item, or `undefined` once the mailbox is closed or the signal aborts —
 * a canceled read ends the consumer's loop instead of throwing.
 */
export class NewestFrameMailbox<T> {
  private pending: T | undefined;
  private waiter: ((item: T | undefined) => void) | undefined;
  private closed = false;
  private dropCount = 0;

  constructor(private readonly onDrop: (item: T) => void = () => {}) {}

  get drops(): number {
    return this.dropCount;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  put(item: T): void {
    if (this.closed) {
      this.onDrop(item);
      return;
    }
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(item);
      return;
    }
    if (this.pending !== undefined) {
      this.dropCount++;
      this.onDrop(this.pending);
    }
    this.pending = item;
  }

  take(signal?: AbortSignal): Promise<T | undefined> {
    if (this.pending !== undefined) {
      const item = this.pending;
      this.pending = undefined;
      return Promise.resolve(item);
    }
    if (this.closed || signal?.aborted) return Promise.resolve(undefined);
    if (this.waiter) return Promise.reject(new Error('a frame mailbox has one reader at a time'));
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.waiter = undefined;
        resolve(undefined);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = (item) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(item);
      };
    });
  }

  /**
   * No more items: a waiting reader gets `undefined`. A pending item can still be taken (a finite source's last frame)
   * unless `discard` is set (stop), in which case it is dropped through `onDrop`.
   */
  close(discard = false): void {
    this.closed = true;
    if (discard && this.pending !== undefined) {
      this.onDrop(this.pending);
      this.pending = undefined;
    }
    const w = this.waiter;
    this.waiter = undefined;
    w?.(undefined);
  }
}
