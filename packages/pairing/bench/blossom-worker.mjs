// Runs the edmonds-blossom reference in a worker thread so the bench can stop it after a budget.
// Plain JavaScript: worker threads do not inherit the tsx loader.
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const blossom = require('edmonds-blossom');
const started = performance.now();
const mate = workerData.length > 0 ? blossom(workerData) : [];
parentPort.postMessage({ mate, ms: performance.now() - started });
