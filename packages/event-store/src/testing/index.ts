export {
  describeEventStoreContract,
  type EventStoreFactory,
  type EventStoreUnderTest,
  eventually,
  readAllPages,
  sampleEvent,
} from './contract.js';
