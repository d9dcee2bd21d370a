import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OutboxEntry, OutboxStore, StateStore } from '../../../src/carrier/store.ts';

/**
 * The one contract suite for the store seam (MQTT.js test/node/abstract_store.ts). `open` returns a fresh pair;
 * `reopen` (optional) simulates a restart on the same backing storage.
 */
export interface StoreFactory {
  open(): Promise<{ outbox: OutboxStore; state: StateStore }>;
  reopen?: () => Promise<{ outbox: OutboxStore; state: StateStore }>;
  cleanup?: () => Promise<void>;
}

const entry = (sessionId: string, seq: number): OutboxEntry => ({ sessionId, seq, jws: `jws-${sessionId}-${seq}`, createdAt: 1000 + seq });

export function storeContract(name: string, factory: StoreFactory): void {
  describe(`store contract: ${name}`, () => {
    let outbox: OutboxStore;
    let state: StateStore;
    beforeEach(async () => {
      ({ outbox, state } = await factory.open());
    });
    afterEach(async () => {
      await outbox.close();
      await state.close();
      await factory.cleanup?.();
    });

    it('put then get returns the entry; del removes it once', async () => {
      await outbox.put(entry('a', 1));
      expect(await outbox.get('a')).toEqual(entry('a', 1));
      expect(await outbox.del('a')).toBe(true);
      expect(await outbox.del('a')).toBe(false);
      expect(await outbox.get('a')).toBeUndefined();
    });

    it('putting a stored sessionId keeps the first entry (idempotent re-delivery)', async () => {
      await outbox.put(entry('a', 1));
      const again = await outbox.put({ ...entry('a', 7), jws: 'other' });
      expect(again).toEqual(entry('a', 1));
      expect(await outbox.size()).toBe(1);
    });

    it('stream yields all entries ascending by seq, and a snapshot tolerates deletes while iterating', async () => {
      for (const [id, seq] of [['c', 3], ['a', 1], ['b', 2]] as const) await outbox.put(entry(id, seq));
      const seen: string[] = [];
      for await (const e of outbox.stream()) {
        seen.push(e.sessionId);
        await outbox.del(e.sessionId);
      }
      expect(seen).toEqual(['a', 'b', 'c']);
      expect(await outbox.size()).toBe(0);
    });

    it('nextSeq is strictly increasing', async () => {
      const seqs = [];
      for (let i = 0; i < 20; i++) seqs.push(await state.nextSeq());
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]);
    });

    it('claimNonce accepts a nonce once within its window and again after it expired', async () => {
      expect(await state.claimNonce('n1', 2000, 1000)).toBe(true);
      expect(await state.claimNonce('n1', 2000, 1500)).toBe(false);
      expect(await state.claimNonce('n2', 2000, 1500)).toBe(true);
      expect(await state.claimNonce('n1', 4000, 2500)).toBe(true);
    });

    it('accepted records list oldest first, are forgotten when the result is stored, and skip stored sessions', async () => {
      await outbox.accept({ sessionId: 'b', nonce: 'nb', acceptedAt: 20 });
      await outbox.accept({ sessionId: 'a', nonce: 'na', acceptedAt: 10 });
      await outbox.accept({ sessionId: 'a', nonce: 'other', acceptedAt: 30 });
      expect(await outbox.accepted()).toEqual([
        { sessionId: 'a', nonce: 'na', acceptedAt: 10 }, { sessionId: 'b', nonce: 'nb', acceptedAt: 20 }]);
      await outbox.put(entry('a', 1));
      expect((await outbox.accepted()).map((r) => r.sessionId)).toEqual(['b']);
      await outbox.accept({ sessionId: 'a', nonce: 'na', acceptedAt: 40 });
      expect((await outbox.accepted()).map((r) => r.sessionId)).toEqual(['b']);
    });

    it('calls after close reject', async () => {
      await outbox.close();
      await expect(outbox.get('a')).rejects.toThrow();
    });

    if (factory.reopen) {
      it('entries, seq and nonces survive a restart', async () => {
        await outbox.put(entry('a', 1));
        const seq = await state.nextSeq();
        await state.claimNonce('n1', 10_000, 1000);
        await outbox.accept({ sessionId: 'b', nonce: 'nb', acceptedAt: 5 });
        await outbox.close();
        await state.close();
        ({ outbox, state } = await factory.reopen!());
        expect(await outbox.get('a')).toEqual(entry('a', 1));
        expect(await state.nextSeq()).toBeGreaterThan(seq);
        expect(await state.claimNonce('n1', 10_000, 2000)).toBe(false);
        expect(await outbox.accepted()).toEqual([{ sessionId: 'b', nonce: 'nb', acceptedAt: 5 }]);
      });
    }
  });
}
