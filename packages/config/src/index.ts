export * from './config.js';
export * from './config-table.js';
export * from './pool-size.js';
export * from './env-example.js';
