export {
  describeEventStoreContract,
  type EventStoreContractOptions,
  type EventStoreFactory,
  type EventStoreUnderTest,
  eventually,
  readAllPages,
  sampleEvent,
} from './contract.js';
