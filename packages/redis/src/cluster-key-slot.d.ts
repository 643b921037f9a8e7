declare module 'cluster-key-slot' {
  /** Redis Cluster's hash slot of a key (CRC16 of its hash tag, or of the whole key), 0–16383. */
  function calculateSlot(key: string | Buffer): number;
  export default calculateSlot;
}
