export { type CheckpointStore, checkpointStore, type DeadLetter } from './checkpoint-store.js';
export type { CompetingSource, Source, SourceEvent, SourceFilter } from './source.js';
export { type EventStoreSourceOptions, eventStoreSource } from './sources/event-store-source.js';
export { FeedRefusedError, type HttpFeedSourceOptions, httpFeedSource } from './sources/http-feed-source.js';
export { type PersistentGroupSourceOptions, persistentGroupSource } from './sources/persistent-group-source.js';
export {
  createSubscriber,
  type Handler,
  type HandlerContext,
  type Handlers,
  isConnectionError,
  type Lag,
  type RetryOptions,
  type SubscribedEvent,
  type Subscriber,
  type SubscriberOptions,
  type SubscriberStats,
} from './subscriber.js';
