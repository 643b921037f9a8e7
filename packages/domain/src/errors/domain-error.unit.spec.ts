import { describe, expect, it } from 'vitest';
import { domainErrorStatus, httpStatusOf, isDomainErrorCode } from './domain-error.js';

describe('domain error table', () => {
  it("maps the API's error codes to their statuses", () => {
    expect(httpStatusOf('ALREADY_IN_QUEUE')).toBe(409);
    expect(httpStatusOf('ACTIVE_GAME_EXISTS')).toBe(409);
    expect(httpStatusOf('QUEUE_ENTRY_NOT_FOUND')).toBe(404);
    expect(httpStatusOf('CANNOT_CANCEL')).toBe(409);
    expect(httpStatusOf('CHALLENGE_NOT_FOUND')).toBe(404);
    expect(httpStatusOf('INVALID_CHALLENGE_STATE')).toBe(409);
    expect(httpStatusOf('CANNOT_ACCEPT_CHALLENGE')).toBe(409);
    expect(httpStatusOf('NOT_ALLOWED')).toBe(403);
  });

  it('every code is a client error status', () => {
    for (const status of Object.values(domainErrorStatus)) expect(status >= 400 && status < 500).toBe(true);
  });

  it('recognises codes', () => {
    expect(isDomainErrorCode('CANNOT_CANCEL')).toBe(true);
    expect(isDomainErrorCode('toString')).toBe(false);
  });
});
