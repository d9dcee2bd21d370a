import type { Logger } from '../lib/logger.ts';
import { untrustedText } from '../lib/untrusted-text.ts';
import type { ResultOutbox } from './outbox.ts';
import { INVALID_SESSION, type RejectReason, type SessionRequest } from './protocol.ts';
import type { RequestValidator } from './request-validator.ts';
import { StateStorageError } from './sqlite-store.ts';

/**
 * Admission of session requests: validate, then check the session has no undelivered result, the outbox has room and
 * the session engine is free, record the session as accepted (durably, so a crash still owes it an `interrupted`
 * result), then hand the request to the listeners. Every request gets exactly one answer: listeners are called
 * (accepted), or a signed `rejected` result with the reason goes to `publishRejection` (answered once, never kept in
 * the outbox) and a `session request rejected` log line with the reason is written. A request that cannot be admitted
 * because the state cannot be written (disk full, database unavailable) is answered with `storage_full`; any other
 * failure of the intake itself as `internal_error` on INVALID_SESSION.
 *
 * A rejection is addressed to the request's session only when the validator says it is that session's one verdict;
 * see request-validator.ts and docs/reliability.md (Requests).
 *
 * Requests are handled one at a time in arrival order (nonce claims stay ordered). At most `maxPending` wait; more
 * are dropped with a warning, so a flood cannot grow memory without bound. A throwing listener is logged and never
 * reaches the MQTT client.
 */
export type SessionRequestListener = (request: SessionRequest) => void;

export interface RequestIntakeOptions {
  validator: RequestValidator;
  outbox: ResultOutbox;
  isBusy?: () => boolean;
  /** why the terminal cannot serve a session now (e.g. `camera_unavailable`), or undefined when it can */
  unavailable?: () => RejectReason | undefined;
  publishRejection: (sessionId: string, jws: string) => Promise<void>;
  logger: Logger;
  now: () => number;
  maxPending?: number;
}

export class RequestIntake {
  private readonly listeners = new Set<SessionRequestListener>();
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(private readonly options: RequestIntakeOptions) {}

  onSessionRequest(listener: SessionRequestListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  enqueue(raw: Buffer): void {
    if (this.pending >= (this.options.maxPending ?? 1000)) {
      this.options.logger.warn({ pending: this.pending }, 'request queue full; request dropped');
      return;
    }
    this.pending++;
    this.queue = this.queue.then(() => this.handle(raw)).finally(() => { this.pending--; });
  }

  private async handle(raw: Buffer): Promise<void> {
    const o = this.options;
    let admitted: { sessionId: string; nonce: string } | undefined;
    try {
      const v = await o.validator.validate(raw);
      if (!v.ok) return await this.reject(v.sessionId, v.nonce, v.reason, v.detail, v.field);
      admitted = { sessionId: v.request.sessionId, nonce: v.request.nonce };
      const { sessionId, nonce } = admitted;
      if (await o.outbox.store.get(sessionId)) {
        return await this.reject(INVALID_SESSION, nonce, 'replayed', `session ${sessionId} has an undelivered result`);
      }
      if (!(await o.outbox.hasRoom())) return await this.reject(sessionId, nonce, 'outbox_full', 'undelivered results at the cap');
      const down = o.unavailable?.();
      if (down) return await this.reject(sessionId, nonce, down, 'the terminal cannot serve a session now');
      if (o.isBusy?.() || this.listeners.size === 0) return await this.reject(sessionId, nonce, 'busy', 'a session is running');
      await o.outbox.accept(sessionId, nonce);
      o.logger.info({ sessionId }, 'session request accepted');
      for (const listener of this.listeners) {
        try {
          listener(v.request);
        } catch (e: unknown) {
          o.logger.error({ err: untrustedText(e), sessionId }, 'session request listener threw');
        }
      }
    } catch (e: unknown) {
      if (e instanceof StateStorageError) return this.refuseForStorage(admitted, e);
      o.logger.error({ err: untrustedText(e) }, 'session request handling failed');
      await this.reject(INVALID_SESSION, '', 'internal_error', 'request handling failed').catch((e2: unknown) => {
        o.logger.error({ err: untrustedText(e2) }, 'internal_error rejection failed');
      });
    }
  }

  /**
   * A request the state could not record (disk full, database unavailable) is answered `storage_full`: on its
   * session's level once validation (and so the nonce claim) succeeded, else, as a claim that failed, on
   * INVALID_SESSION like any answer that is no session's verdict.
   */
  private async refuseForStorage(ids: { sessionId: string; nonce: string } | undefined, e: StateStorageError): Promise<void> {
    const { sessionId, nonce } = ids ?? { sessionId: INVALID_SESSION, nonce: '' };
    try {
      await this.reject(sessionId, nonce, 'storage_full', untrustedText(e));
    } catch (e2: unknown) {
      this.options.logger.error({ err: untrustedText(e2), sessionId }, 'storage_full rejection failed');
    }
  }

  /** `field`: which request field failed a `schema` check (request-fields.ts), signed into the rejection */
  private async reject(sessionId: string, nonce: string, reason: RejectReason, detail: string, field?: string): Promise<void> {
    this.options.logger.warn({ reason, detail: untrustedText(detail, 256), sessionId, ...(field ? { field } : {}) },
      'session request rejected');
    const at = new Date(this.options.now()).toISOString();
    const { jws } = await this.options.outbox.sign({
      sessionId, nonce, decision: 'rejected', decidedBy: 'request', reason, ...(field ? { field } : {}), scores: {},
      thresholds: {}, challenges: [], startedAt: at, finishedAt: at,
    });
    await this.options.publishRejection(sessionId, jws);
  }
}
