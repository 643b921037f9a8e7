import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../../test/harness.js';
import { openApiDocument } from '../openapi.js';

/** The system's Chromium (`apt-get install chromium`; .ci/run installs it when missing). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Git-ignored: look at it after a run. */
const SCREENSHOT_DIR = new URL('../../../../.local/screenshots/', import.meta.url);

let stack: TestStack;
let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  }
  stack = await startTestStack();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const operationIds = () =>
  Object.values(openApiDocument().paths as Record<string, Record<string, { operationId: string }>>).flatMap((methods) =>
    Object.values(methods).map((op) => op.operationId),
  );

describe('GET /docs — the API reference in a real browser', () => {
  it('renders every operation from /openapi.json, offline: no request leaves the server', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const requested: string[] = [];
    const external: string[] = [];
    const failed: string[] = [];
    const errors: string[] = [];
    // Nothing may leave the machine: a request to another origin is recorded and aborted.
    await page.route('**/*', (route) => {
      const url = route.request().url();
      requested.push(url);
      if (url.startsWith(`${stack.url}/`) || url.startsWith('data:') || url.startsWith('blob:')) {
        return route.continue();
      }
      external.push(url);
      return route.abort();
    });
    page.on('response', (response) => {
      if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    });
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });

    const answer = await page.goto(`${stack.url}/docs`);
    expect(answer?.status()).toBe(200);
    expect(await page.title()).toBe('matchmaking API reference');
    const ids = operationIds();
    expect(ids).toHaveLength(14);
    // Redoc names each operation's section and menu item after its operationId.
    const rendered = page.locator('[data-section-id^="operation/"]');
    await expect.poll(() => rendered.count(), { timeout: 30_000 }).toBe(ids.length);
    const sections = await page.$$eval('[data-section-id^="operation/"]', (nodes) =>
      nodes.map((n) => n.getAttribute('data-section-id')),
    );
    expect(sections.sort()).toEqual(ids.map((id) => `operation/${id}`).sort());
    // The side menu lists every operation under its tag; a reader opens a tag to see them (one
    // tag is open at a time; queue, opened last, stays open for the screenshot).
    const menu: { id: string; label: string }[] = [];
    for (const tag of ['events', 'operations', 'challenges', 'queue']) {
      await page.click(`li[data-item-id="tag/${tag}"] > label`);
      const items = page.locator(`li[data-item-id^="tag/${tag}/operation/"]`);
      await expect
        .poll(() =>
          items.evaluateAll((nodes) => nodes.every((n) => (n as unknown as { offsetHeight: number }).offsetHeight > 0)),
        )
        .toBe(true);
      for (const item of await items.all()) {
        menu.push({
          id: (await item.getAttribute('data-item-id'))!.replace(/^.*\/operation\//, ''),
          label: ((await item.textContent()) ?? '').replace(/\s+/g, ' ').trim(),
        });
      }
    }
    expect(menu.map((item) => item.id).sort()).toEqual([...ids].sort());
    expect(menu.find((item) => item.id === 'joinQueue')?.label).toBe('postJoin the queue of a pool');
    expect(await page.textContent('h1')).toContain('matchmaking');
    expect(await page.textContent('body')).toContain('RATE_LIMITED');

    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const screenshot = new URL('api-docs.png', SCREENSHOT_DIR);
    await page.screenshot({ path: screenshot.pathname, fullPage: false });
    const png = readFileSync(screenshot);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.length).toBeGreaterThan(20_000);

    expect(requested).toEqual(
      expect.arrayContaining([
        `${stack.url}/docs`,
        `${stack.url}/docs/redoc.standalone.js`,
        `${stack.url}/docs/init.js`,
        `${stack.url}/openapi.json`,
      ]),
    );
    expect(external).toEqual([]);
    expect(failed).toEqual([]);
    // Redoc 2's side-menu footer links its logo from its CDN: the content security policy blocks
    // it in the browser, before any request (so `external` stays empty). Nothing else may fail.
    const blocked =
      /^Loading the image 'https:\/\/cdn\.redoc\.ly\/[^']+' violates the following Content Security Policy/;
    expect(errors.filter((e) => !blocked.test(e))).toEqual([]);
    await page.close();
  }, 90_000);

  it('sends /docs/ to /docs (the page uses relative URLs)', async () => {
    const res = await fetch(`${stack.url}/docs/`, { redirect: 'manual' });
    expect(res.status).toBe(301);
    expect(new URL(res.headers.get('location')!, `${stack.url}/docs/`).pathname).toBe('/docs');
  });
});
