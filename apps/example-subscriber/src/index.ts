export { type PlayerHistoryOptions, type PlayerHistoryService, startPlayerHistory } from './app.js';
export { historyHandlers, migrateHistory, type PlayerHistory, playerHistory } from './history.js';
export { type ServiceTokenOptions, serviceTokens } from './token.js';
