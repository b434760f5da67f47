// Returning what start-up used to the system, once the agent is ready: the
// start-up's garbage in V8's heap and the young generation grown while the
// agent loaded and took its snapshot (a memory-pressure collection; a forced
// gc() keeps the young generation as it is), and the C heap's freed pages
// (glibc's malloc_trim: a test driver's parsed node file, the snapshot's
// records). ~3 MiB of V8 heap and ~2 MiB of C heap with 1,000 domains
// (bench/RESULTS.md). Both grow back as the load needs: this is for once
// after start, not a periodic squeeze. Through the libvirt addon, the
// process's one native module.
import { native } from '../libvirt/binding';

export interface Released {
  /** V8's committed heap before and after, bytes */
  v8HeapBefore: number;
  v8HeapAfter: number;
  /** whether malloc_trim gave pages back */
  cHeapTrimmed: boolean;
}

/** A compacting collection that shrinks V8's young generation, then malloc_trim. Synchronous: tens of ms. */
export function releaseStartupMemory(): Released {
  const v8HeapBefore = process.memoryUsage().heapTotal;
  native.relieveV8Heap();
  const v8HeapAfter = process.memoryUsage().heapTotal;
  return { v8HeapBefore, v8HeapAfter, cHeapTrimmed: trimCHeap() };
}

/** glibc's malloc_trim alone: true when freed C-heap pages went back. */
export function trimCHeap(): boolean {
  return native.trimHeap();
}
