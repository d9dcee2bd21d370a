import { describe, expect, it } from 'vitest';
import { NewestFrameMailbox } from '../../../src/camera/newest-frame-mailbox.ts';

describe('NewestFrameMailbox', () => {
  it('keeps only the newest item for a slow reader and counts the drops', async () => {
    const dropped: number[] = [];
    const m = new NewestFrameMailbox<number>((n) => dropped.push(n));
    for (let i = 0; i < 5; i++) m.put(i);
    expect(await m.take()).toBe(4);
    expect(m.drops).toBe(4);
    expect(dropped).toEqual([0, 1, 2, 3]);
  });

  it('hands an item straight to a waiting reader', async () => {
    const m = new NewestFrameMailbox<string>();
    const p = m.take();
    m.put('a');
    expect(await p).toBe('a');
    expect(m.drops).toBe(0);
  });

  it('a canceled read resolves undefined; close ends readers and can discard the pending item', async () => {
    const m = new NewestFrameMailbox<number>();
    const ac = new AbortController();
    const p = m.take(ac.signal);
    ac.abort();
    expect(await p).toBeUndefined();
    const q = m.take();
    m.close();
    expect(await q).toBeUndefined();
    const dropped: number[] = [];
    const m2 = new NewestFrameMailbox<number>((n) => dropped.push(n));
    m2.put(1);
    m2.close();
    expect(await m2.take()).toBe(1);
    m2.put(2);
    expect(dropped).toEqual([2]);
    const m3 = new NewestFrameMailbox<number>((n) => dropped.push(n));
    m3.put(3);
    m3.close(true);
    expect(await m3.take()).toBeUndefined();
    expect(dropped).toEqual([2, 3]);
  });

  it('rejects a second concurrent reader', async () => {
    const m = new NewestFrameMailbox<number>();
    void m.take();
    await expect(m.take()).rejects.toThrow(/one reader/);
  });
});
