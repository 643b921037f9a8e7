export * from './event-store.js';
export * from './ops-server.js';
export * from './promql.js';
export * from './queues.js';
export * from './registry.js';
