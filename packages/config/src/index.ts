export * from './config.js';
export * from './config-table.js';
