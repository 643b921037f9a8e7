export * from './driver/matchmaking-client.js';
export * from './driver/pacing.js';
export * from './driver/settle.js';
export * from './stack/free-port.js';
export * from './stack/rating-double.js';
export * from './stack/round-robin.js';
export * from './stack/service-process.js';
export * from './stack/stack.js';
