export * from './archived-store.js';
export * from './format.js';
export * from './manifest.js';
