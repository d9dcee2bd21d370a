import { MemoryOutboxStore, MemoryStateStore } from '../../../src/carrier/store.ts';
import { storeContract } from './outbox-store-contract.ts';

storeContract('memory', {
  open: async () => ({ outbox: new MemoryOutboxStore(), state: new MemoryStateStore() }),
});
