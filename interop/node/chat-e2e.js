// Two headless Chromium pages on the chat example (examples/chat): a message
// typed in one appears in the other, and back. Run by interop/chat_e2e_test.go
// as: node chat-e2e.js <chromium> <page url> <screenshot.png>
// Prints {"ok":true} or exits non-zero with the reason.
const { chromium } = require('playwright-core');

async function main() {
  const [exe, url, shot] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: exe,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const ctx = await browser.newContext();
    const a = await ctx.newPage();
    const b = await ctx.newPage();
    for (const p of [a, b]) {
      await p.goto(url);
      await p.waitForSelector('#send:not([disabled])', { timeout: 10000 }); // connected and subscribed
    }
    await a.fill('#name', 'ann');
    await a.fill('#text', 'hello from A');
    await a.click('#send');
    await b.waitForFunction(() => document.getElementById('log').textContent.includes('hello from A'), null, { timeout: 10000 });
    await b.fill('#name', 'bob');
    await b.fill('#text', 'hi back from B');
    await b.press('#text', 'Enter');
    await a.waitForFunction(() => document.getElementById('log').textContent.includes('hi back from B'), null, { timeout: 10000 });
    if (shot) await a.screenshot({ path: shot });
    console.log(JSON.stringify({ ok: true }));
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
