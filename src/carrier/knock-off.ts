/**
 * Notices when the broker keeps dropping the link right after accepting it. That is the signature of another client
 * using this terminal's client id: each connect takes the session over from the other, so both are knocked off in
 * turn (MQTT 5 brokers say so with DISCONNECT reason 0x8E, "Session taken over"). A broker that closes the connection
 * after CONNACK for another reason, or restarts over and over, shows the same pattern and deserves the same warning.
 *
 * A drop counts as a knock-off when the broker said the session was taken over, or when it comes within `withinMs`
 * of CONNACK. `closed()` returns a warning once per `windowMs`, when the window's count reaches `warnAt`; a failed
 * connection attempt (no CONNACK) is not a knock-off.
 */
export const SESSION_TAKEN_OVER = 0x8e;

export interface KnockOffOptions {
  withinMs: number;
  windowMs: number;
  warnAt: number;
}

export const DEFAULT_KNOCK_OFF: KnockOffOptions = { withinMs: 10_000, windowMs: 60_000, warnAt: 3 };

export interface KnockOffWarning {
  /** knock-offs in the current window so far */
  count: number;
  /** how many of them the broker reported as "Session taken over" */
  takenOver: number;
  windowMs: number;
  /** knock-offs since start */
  total: number;
}

export class KnockOffMonitor {
  private connectedAt?: number;
  private sessionTakenOver = false;
  private total = 0;
  private windowStart = -Infinity;
  private windowCount = 0;
  private windowTakenOver = 0;
  private warned = false;

  constructor(private readonly options: KnockOffOptions = DEFAULT_KNOCK_OFF) {}

  /** knock-offs since start */
  get count(): number {
    return this.total;
  }

  /** CONNACK received */
  connected(at: number): void {
    this.connectedAt = at;
    this.sessionTakenOver = false;
  }

  /** The broker's DISCONNECT packet (MQTT 5) with its reason code. */
  disconnectReason(reasonCode: number | undefined): void {
    if (reasonCode === SESSION_TAKEN_OVER) this.sessionTakenOver = true;
  }

  /** The connection closed. Returns a warning when this drop brings the window's count to `warnAt`. */
  closed(at: number): KnockOffWarning | undefined {
    const since = this.connectedAt;
    const takenOver = this.sessionTakenOver;
    this.connectedAt = undefined;
    this.sessionTakenOver = false;
    if (since === undefined || (!takenOver && at - since > this.options.withinMs)) return undefined;
    this.total++;
    if (at - this.windowStart >= this.options.windowMs) {
      this.windowStart = at;
      this.windowCount = 0;
      this.windowTakenOver = 0;
      this.warned = false;
    }
    this.windowCount++;
    if (takenOver) this.windowTakenOver++;
    if (this.warned || this.windowCount < this.options.warnAt) return undefined;
    this.warned = true;
    return { count: this.windowCount, takenOver: this.windowTakenOver, windowMs: this.options.windowMs, total: this.total };
  }
}
