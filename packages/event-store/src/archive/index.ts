export * from './archived-store.js';
export * from './export.js';
export * from './format.js';
export * from './manifest.js';
