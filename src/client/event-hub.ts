// One event subscription per node for the whole SDK connection, shared by
// every events() iterator and job handle: the first listener of a node
// subscribes (a queue bound to v1.<node>.#, or the node's topic filter),
// later ones only register. Subscriptions live as long as the connection
// (a handful of nodes per program); listeners come and go.
import type { CloudEvent } from '../contract/envelope';
import type { VirtbusClient } from './types';

export type Listener = (e: CloudEvent) => void;

export class EventHub {
  private readonly subscribed = new Map<string, Promise<void>>();
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(private readonly client: VirtbusClient) {}

  /** Resolves once the node's events flow to `fn` ('*': every node); the returned function stops them. */
  async listen(node: string, fn: Listener): Promise<() => void> {
    let set = this.listeners.get(node);
    if (!set) this.listeners.set(node, (set = new Set()));
    set.add(fn);
    let sub = this.subscribed.get(node);
    if (!sub) {
      const source = `virtbus://${node}`;
      sub = this.client.watch((e) => {
        // an MQTT client hands every watch every subscribed node's events
        if (node !== '*' && e.source !== source) return;
        for (const l of this.listeners.get(node) ?? []) l(e);
      }, node);
      this.subscribed.set(node, sub);
      sub.catch(() => this.subscribed.delete(node));
    }
    try {
      await sub;
    } catch (e) {
      set.delete(fn);
      throw e;
    }
    return () => set!.delete(fn);
  }
}
