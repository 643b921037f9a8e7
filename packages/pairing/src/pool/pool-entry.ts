/** One searching queue entry as the pairing sees it (a snapshot; the pairing never mutates it). */
export interface PoolEntry {
  entryId: string;
  userId: string;
  rating: number;
  /** Epoch milliseconds at which the entry joined the queue. */
  enqueuedAt: number;
  /** The player's own absolute preference for opponent ratings; narrows the window. */
  ratingRange?: { min?: number; max?: number } | null;
  /** Recent games, used for the rematch cool-down (`at` in epoch ms). */
  recentOpponents?: { userId: string; at: number }[];
  /** Colours of the player's recent games, most recent last. */
  colourHistory?: ('white' | 'black')[];
}
