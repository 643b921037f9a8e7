export * from './config.js';
export * from './config-table.js';
export * from './env-example.js';
export * from './pool-size.js';
