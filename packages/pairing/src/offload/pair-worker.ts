import { parentPort } from 'node:worker_threads';
import { pairPool } from '../pair-pool.js';
import type { PairRequest, PairResponse } from './pair-pool-async.js';

/** The pairing thread: one pass per message, answered with the result or the error's message. */
parentPort?.on('message', (request: PairRequest) => {
  let response: PairResponse;
  try {
    response = { id: request.id, result: pairPool(request.entries, request.now, request.config) };
  } catch (error) {
    response = { id: request.id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
  parentPort?.postMessage(response);
});
