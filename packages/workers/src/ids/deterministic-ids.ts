/** The deterministic ids live with the flows that write them (`@mm/domain`); re-exported for the workers' importers. */
export { type DecidedSide, matchEventId, queueMatchId, timeoutEventId, uuidFrom } from '@mm/domain';
