import type { EventStore, RecordedEvent } from '@mm/event-store';

export interface ReadWholeLogOptions {
  /** Events per read. @defaultValue 5000 */
  batchSize?: number;
  /** Called after each page with the number of events read so far. */
  onProgress?: (read: number, lastPosition: number) => void;
}

/** Reads the global log from the start, page by page, in position order. */
export async function readWholeLog(store: EventStore, options: ReadWholeLogOptions = {}): Promise<RecordedEvent[]> {
  const batchSize = options.batchSize ?? 5000;
  const out: RecordedEvent[] = [];
  let after = -1;
  for (;;) {
    const page = await store.readAll({ after, maxCount: batchSize });
    if (page.length === 0) return out;
    for (const event of page) out.push(event);
    after = page[page.length - 1]!.position;
    options.onProgress?.(out.length, after);
  }
}
