/**
 * Thrown by a projection's `applyBatch` when its store no longer holds what its checkpoint
 * says (Redis restarted empty, keys evicted, a checkpoint rolled back): the runner then
 * reloads the projection's checkpoint (`loadCheckpoint` decides whether to start over from
 * an empty store) and replays the log from there on that projection's chain alone; the other
 * projections go on.
 */
export class ProjectionReset extends Error {
  readonly code = 'PROJECTION_RESET';

  constructor(
    readonly projection: string,
    readonly reason: string,
  ) {
    super(`projection ${projection} must be rebuilt: ${reason}`);
    this.name = 'ProjectionReset';
  }
}

export const isProjectionReset = (error: unknown): error is ProjectionReset =>
  error instanceof ProjectionReset ||
  (typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'PROJECTION_RESET');
