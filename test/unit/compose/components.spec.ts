import { describe, expect, it } from 'vitest';
import { withStartOnly } from '../../../src/compose/components.ts';

describe('withStartOnly', () => {
  it('passes an abort through while the start runs, and not after it', async () => {
    const outer = new AbortController();
    let scoped: AbortSignal | undefined;
    let release!: () => void;
    const starting = withStartOnly(outer.signal, (s) => { scoped = s; return new Promise<void>((r) => { release = r; }); });
    release();
    await starting;
    outer.abort();
    expect(scoped!.aborted).toBe(false);

    const during = new AbortController();
    let seen: AbortSignal | undefined;
    await withStartOnly(during.signal, async (s) => { seen = s; during.abort(); });
    expect(seen!.aborted).toBe(true);

    const before = new AbortController();
    before.abort();
    await withStartOnly(before.signal, async (s) => { expect(s.aborted).toBe(true); });
  });
});
