export * from './app.js';
export * from './application/index.js';
export * from './auth/authenticator.js';
export * from './bootstrap.js';
export * from './dependencies.js';
export * from './errors/problem.js';
export * from './idempotency/idempotency.js';
export * from './migrate.js';
