import { CHALLENGE_QUEUE, GAME_CREATION_QUEUE, PAIRING_QUEUE, TICK_QUEUE } from '@mm/redis';
import { adminToken, playerToken } from '@mm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../../test/harness.js';
import { QUEUE_UI_COOKIE, QUEUE_UI_PATH } from './queue-ui.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${stack.url}${path}`, { headers, redirect: 'manual' });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe(`Bull Board at ${QUEUE_UI_PATH}`, () => {
  it('answers 403 to a token without an admin role, 401 without a token, on the page and its API', async () => {
    const player = playerToken('tenant-ui', 'alice');
    for (const path of [QUEUE_UI_PATH, `${QUEUE_UI_PATH}/api/queues`]) {
      const forbidden = await get(path, bearer(player));
      expect(forbidden.status).toBe(403);
      expect(forbidden.headers.get('content-type')).toContain('application/problem+json');
      expect(((await forbidden.json()) as { code: string }).code).toBe('FORBIDDEN');
      expect((await get(path, { accept: 'application/json' })).status).toBe(401);
    }
  });

  it('serves the UI (HTML) and its API over our queues to an admin token', async () => {
    const page = await get(QUEUE_UI_PATH, bearer(adminToken('tenant-ui')));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('<div id="root">');
    expect(html).toContain(`<base href="${QUEUE_UI_PATH}/" />`);
    expect(html).toContain('<title>matchmaking queues</title>');
    // Its scripts are served from here too, behind the same check.
    const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(html)![1]!;
    const asset = await get(`${QUEUE_UI_PATH}/${script}`, bearer(adminToken('tenant-ui')));
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');
    expect((await get(`${QUEUE_UI_PATH}/${script}`, bearer(playerToken('tenant-ui', 'eve')))).status).toBe(403);

    const api = await get(`${QUEUE_UI_PATH}/api/queues`, bearer(adminToken('tenant-ui')));
    expect(api.status).toBe(200);
    const { queues } = (await api.json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    expect(Object.fromEntries(queues.map((q) => [q.name, q.readOnlyMode]))).toEqual({
      [GAME_CREATION_QUEUE]: false,
      [CHALLENGE_QUEUE]: false,
      [PAIRING_QUEUE]: true,
      [TICK_QUEUE]: true,
    });
  });

  it('lets a browser sign in with a token (HTTP-only cookie scoped to the UI) and sends it to the form without one', async () => {
    const anonymous = await get(QUEUE_UI_PATH, { accept: 'text/html' });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe(`${QUEUE_UI_PATH}/login`);
    const form = await get(`${QUEUE_UI_PATH}/login`);
    expect(form.status).toBe(200);
    expect(await form.text()).toContain(`action="${QUEUE_UI_PATH}/login"`);

    const login = (token: string) =>
      fetch(`${stack.url}${QUEUE_UI_PATH}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }).toString(),
        redirect: 'manual',
      });
    expect((await login(playerToken('tenant-ui', 'bob'))).status).toBe(403);
    expect((await login('not-a-jwt')).status).toBe(401);

    const admitted = await login(adminToken('tenant-ui'));
    expect(admitted.status).toBe(303);
    expect(admitted.headers.get('location')).toBe(`${QUEUE_UI_PATH}/`);
    const setCookie = admitted.headers.get('set-cookie')!;
    expect(setCookie).toMatch(new RegExp(`^${QUEUE_UI_COOKIE}=`));
    expect(setCookie).toContain(`Path=${QUEUE_UI_PATH}`);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    const cookie = setCookie.split(';')[0]!;
    const page = await get(`${QUEUE_UI_PATH}/`, { cookie, accept: 'text/html' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect((await get(`${QUEUE_UI_PATH}/api/queues`, { cookie })).status).toBe(200);
    // The cookie is a token like any other: a player's is refused.
    const playerCookie = `${QUEUE_UI_COOKIE}=${playerToken('tenant-ui', 'bob')}`;
    expect((await get(`${QUEUE_UI_PATH}/api/queues`, { cookie: playerCookie })).status).toBe(403);
  });
});
