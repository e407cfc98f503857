import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium, which `.ci/run` installs (apt-get install chromium); AMI_BAKE_CHROMIUM overrides. */
export function chromiumPath(): string {
  const path = process.env.AMI_BAKE_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(
      `no Chromium at ${path}: install Debian's chromium package (apt-get install chromium; .ci/run does) or set AMI_BAKE_CHROMIUM to a Chromium binary`,
    );
  }
  return path;
}

export async function launchChromium(): Promise<Browser> {
  // No sandbox: CI runs as root in a container, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox'] });
}

/** Opens a file and collects what the page said went wrong: console errors and uncaught exceptions. */
export async function openFile(browser: Browser, file: string) {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  await page.goto(`file://${file}`, { waitUntil: 'load' });
  return { page, problems };
}
