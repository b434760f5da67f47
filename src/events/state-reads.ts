// The domain state an event is published with, read in batches: every
// event of a domain that arrives within one turn of the event loop shares
// one read, issued after the last of them arrived — so it is never older
// than any event it is attached to, and a burst of events on one domain
// costs one libvirt round trip, not one per event.
import { domainStateByUuid, isLibvirtError, type Connection } from '../libvirt';

export class StateReads {
  private scheduled = new Map<string, Array<(state: string | undefined) => void>>();

  constructor(
    private readonly connection: () => Connection | undefined,
    /** how one domain's state is read (default: lookup and state in one hop) */
    private readonly readState: (conn: Connection, uuid: string) => Promise<{ state: string }> = domainStateByUuid,
    /** a read failed for another reason than the domain being gone */
    private readonly onUnreadable: (err: unknown, uuid: string) => void = () => undefined,
  ) {}

  /** The domain's state as read after this call (undefined: not connected, gone, unreadable). */
  read(uuid: string): Promise<string | undefined> {
    return new Promise((resolve) => {
      let waiting = this.scheduled.get(uuid);
      if (!waiting) {
        if (this.scheduled.size === 0) setImmediate(() => this.issue());
        this.scheduled.set(uuid, (waiting = []));
      }
      waiting.push(resolve);
    });
  }

  private issue(): void {
    const batch = this.scheduled;
    this.scheduled = new Map();
    for (const [uuid, waiting] of batch) {
      void this.readOne(uuid).then((state) => {
        for (const resolve of waiting) resolve(state);
      });
    }
  }

  private async readOne(uuid: string): Promise<string | undefined> {
    const conn = this.connection();
    if (!conn) return undefined;
    try {
      return (await this.readState(conn, uuid)).state;
    } catch (e) {
      // Gone by now (undefined, shut off and transient): the event still says what happened.
      if (!isLibvirtError(e, 'VIR_ERR_NO_DOMAIN')) this.onUnreadable(e, uuid);
      return undefined;
    }
  }
}
