export type { StreamingAuditor as AuditFold } from '../streaming-audit.js';

/** The fields the audit reads, typed loosely on purpose: it must not trust the schemas it is checking. */
// biome-ignore lint/suspicious/noExplicitAny: raw event data is read defensively
export type Raw = any;

/** An ISO instant in ms (NaN when it is not one). */
export const time = (iso: unknown): number => (typeof iso === 'string' ? Date.parse(iso) : Number.NaN);
