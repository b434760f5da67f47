// One socket write per turn instead of one per frame or packet.
//
// amqplib hands every frame to the socket as its own write() (its muxer
// round-robins the channels' frames into the socket), and mqtt.js writes
// each packet field by field, corked until the next tick. With TCP_NODELAY
// each flush is a system call and a TCP segment: under load the agent spent
// 13 % of its CPU in socket writes (bench, events row). Corking the socket at
// the first write and uncorking later sends everything written meanwhile as
// one writev — the same bytes, in the same order, just fewer system calls.
// Back-pressure is unchanged: write() still returns false past the
// high-water mark and 'drain' still follows.
//
// How long the socket stays corked:
// - 'tick': until process.nextTick — what one callback (one delivery, one
//   confirm) writes. The AMQP connection's choice.
// - 'turn': until setImmediate, after the event loop ran every I/O callback
//   that was ready — also what the other replies completed in the same turn
//   write. On MQTT each libvirt result comes back in a callback of its own,
//   so with 'tick' every reply was its own writev (1.1 per command with 64
//   in flight); with 'turn' they share one (0.1 per command; bench/RESULTS.md).
//   It costs a lone command nothing measurable: its turn has one callback.
//   Pending immediates keep the loop from waiting for I/O, so nothing stays
//   corked while the loop sleeps.
import type { Writable } from 'node:stream';

export type CoalesceUntil = 'tick' | 'turn';

const COALESCED = Symbol('virtbus.coalesced');

type Coalescable = Writable & { [COALESCED]?: CoalesceUntil };

export function coalesceWrites(socket: Writable, until: CoalesceUntil = 'tick'): void {
  const s = socket as Coalescable;
  if (s[COALESCED]) return;
  s[COALESCED] = until;
  const write = s.write.bind(s) as (...args: unknown[]) => boolean;
  const later = until === 'turn' ? setImmediate : process.nextTick;
  let corked = false;
  const uncork = () => {
    corked = false;
    s.uncork();
  };
  s.write = ((...args: unknown[]) => {
    if (!corked && !s.destroyed) {
      corked = true;
      s.cork();
      later(uncork);
    }
    return write(...args);
  }) as Writable['write'];
}

/** A stream whose writes coalesceWrites can hold: a net/TLS socket or another Writable. */
export function corkable(stream: unknown): Writable | undefined {
  return stream && typeof (stream as Writable).cork === 'function' ? (stream as Writable) : undefined;
}
