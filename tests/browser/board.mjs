// board.mjs - metrolog-web in a real browser: headless Chromium (Debian's
// /usr/bin/chromium) driven by playwright-core, against the metrologd,
// metrolog-sim and metrolog-web that test_browser.sh started.
//
//   node board.mjs
// with WEB_URL, WEB_USER, WEB_PASSWORD, CHROMIUM (the browser) and SHOTS
// (where the screenshots go) in the environment.
//
// Steps: log in through the form; the board shows TB-01; the drifting
// channel c3 turns from in tolerance to warning, then out of tolerance,
// and the noisy channel c2's value changes, all without the page
// reloading; no Content-Security-Policy violation and no script error on
// any page; TB-01's page opened from the board, the trend of c3 drawn
// (an SVG with its limits), the worklist in due order, the events log
// filtered by instrument and kind; the switch to Vietnamese; logout. Then the enterprise's user
// (WEB_ENTERPRISE, WEB_ENTERPRISE_PASSWORD) logs in, lands on its
// instruments, opens TB-01, sees certificate WEB_CERT approved in the
// history and downloads its PDF (kept as SHOTS/portal-certificate.pdf,
// which test_browser.sh compares with the tool's); logged out, /verify
// finds the QR text WEB_QR genuine. Each wait is bounded.
// Screenshots: board.png (English, out of tolerance), lab-instrument.png,
// lab-trend.png, lab-worklist.png, lab-events.png, board-vi.png,
// login.png, portal.png, instrument.png, verify.png. Exit 0 when every
// step passed.
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const url = process.env.WEB_URL;
const shots = process.env.SHOTS;
const problems = [];
let step = "start";

function watch(page) {
  // a busy machine (the suite beside other jobs) can take more than
  // Playwright's default 30 s to draw a page: wait for conditions longer
  page.setDefaultTimeout(120000);
  page.setDefaultNavigationTimeout(120000);
  page.on("pageerror", (e) => problems.push(`script error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused/.test(m.text())) {
      problems.push(`console: ${m.text()}`);
    }
  });
}

async function run() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM,
    headless: true,
    args: ["--no-sandbox"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    watch(page);

    step = "login page";
    await page.goto(`${url}/board`);
    assert.match(page.url(), /\/login$/);
    await page.screenshot({ path: `${shots}/login.png` });
    await page.fill("input[name=user]", process.env.WEB_USER);
    await page.fill("input[name=password]", process.env.WEB_PASSWORD);
    await Promise.all([page.waitForURL(/\/board$/), page.click("button[type=submit]")]);

    step = "board";
    await page.waitForSelector("h2:text('TB-01')");
    const c3 = await page.evaluate(() => {
      const row = [...document.querySelectorAll("tr")].find(
        (tr) => tr.querySelector("th")?.textContent === "c3");
      return row.id;
    });
    const c2 = await page.evaluate(() => {
      const row = [...document.querySelectorAll("tr")].find(
        (tr) => tr.querySelector("th")?.textContent === "c2");
      return row.id;
    });
    // in tolerance, or on a slow machine already warning: never out yet
    const first = await page.getAttribute(`#${c3}-s`, "class");
    assert.ok(first === "st st-in" || first === "st st-warn",
      `c3 is "${first}" when the page loads: the simulator's drift was too quick`);
    await page.waitForFunction(() => document.getElementById("live").textContent === "live",
      null, { timeout: 20000 });
    // a mark that a reload would wipe
    await page.evaluate(() => { window.metrologMark = 1; });

    step = "live value";
    const v0 = await page.textContent(`#${c2}-v`);
    await page.waitForFunction(([id, v]) => document.getElementById(id).textContent !== v,
      [`${c2}-v`, v0], { timeout: 30000 });

    if (first === "st st-in") {
      step = "warning, live";
      await page.waitForSelector(`#${c3}-s.st-warn`, { timeout: 120000 });
      assert.equal(await page.textContent(`#${c3}-s`), "warning");
    }
    step = "out of tolerance, live";
    await page.waitForSelector(`#${c3}-s.st-out`, { timeout: 120000 });
    assert.equal(await page.textContent(`#${c3}-s`), "out of tolerance");
    assert.equal(await page.evaluate(() => window.metrologMark), 1, "the page never reloaded");
    // the age ticks in the browser
    const age = await page.getAttribute(`#${c3}-a`, "title");
    assert.match(age, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    await page.screenshot({ path: `${shots}/board.png`, fullPage: true });

    await labPages(page);

    step = "Vietnamese";
    await page.goto(`${url}/board`);
    await page.waitForSelector(`#${c3}-s.st-out`);
    await Promise.all([page.waitForLoadState("load"), page.click("a[hreflang=vi]")]);
    await page.waitForSelector(`#${c3}-s.st-out:text('ngoài dung sai')`);
    assert.equal(await page.getAttribute("html", "lang"), "vi");
    await page.screenshot({ path: `${shots}/board-vi.png`, fullPage: true });

    step = "logout";
    await Promise.all([page.waitForURL(/\/login$/), page.click("form.logout button")]);
    await page.goto(`${url}/board`);
    assert.match(page.url(), /\/login$/);

    await portal(browser);
  } finally {
    await browser.close();
  }
  assert.deepEqual(problems, [], "no CSP violation or script error");
}

// The technicians' pages: TB-01's page from the board, the trend of c3 as
// an SVG picture the browser draws, the worklist, the events log with a
// filter.
async function labPages(page) {
  step = "instrument page";
  await Promise.all([
    page.waitForURL(/\/lab\/instrument\?name=TB-01$/),
    page.click("section.inst:has(h2:text('TB-01')) a.open"),
  ]);
  assert.equal(await page.textContent("h1"), "TB-01");
  // its channels, live as on the board
  await page.waitForFunction(() => document.getElementById("live").textContent === "live",
    null, { timeout: 20000 });
  const states = await page.$$eval("td.st", (tds) => tds.map((td) => td.textContent));
  assert.ok(states.includes("out of tolerance"), `states: ${states}`);
  assert.ok(states.includes("no tolerance set"), `states: ${states}`);
  await page.screenshot({ path: `${shots}/lab-instrument.png`, fullPage: true });

  step = "trend";
  await Promise.all([
    page.waitForURL(/channel=c3$/),
    page.click("p.channels a:text('c3')"),
  ]);
  const img = page.locator("figure.trend img");
  assert.equal(await img.getAttribute("src"), "/lab/trend.svg?name=TB-01&channel=c3");
  // drawn by the browser: an SVG it could load
  await page.waitForFunction(() => {
    const i = document.querySelector("figure.trend img");
    return i.complete && i.naturalWidth > 0;
  }, null, { timeout: 30000 });
  assert.match(await page.textContent("figcaption"), /^c3: drift \+/);
  const svg = await page.request.get(`${url}/lab/trend.svg?name=TB-01&channel=c3`);
  assert.equal(svg.headers()["content-type"], "image/svg+xml");
  const text = await svg.text();
  assert.match(text, /<title>Trend of TB-01\/c3: error \(degC\) over time<\/title>/);
  assert.match(text, /tolerance limits: lower -0\.5 degC, upper 0\.5 degC/);
  await page.locator("figure.trend").screenshot({ path: `${shots}/lab-trend.png` });

  step = "worklist";
  await Promise.all([page.waitForURL(/\/lab\/due$/), page.click("nav.lab a[href='/lab/due']")]);
  const due = await page.$$eval("table.worklist tbody tr", (trs) =>
    trs.map((tr) => [tr.querySelector("th").textContent, tr.querySelector("td.due").textContent]));
  assert.deepEqual(due, [["STD-1", "never calibrated"], ["STD-2", "due soon"]]);
  await page.screenshot({ path: `${shots}/lab-worklist.png`, fullPage: true });

  step = "events log";
  await Promise.all([page.waitForURL(/\/lab\/log$/), page.click("nav.lab a[href='/lab/log']")]);
  const all = await page.locator("table.events tbody tr").count();
  await page.selectOption("select[name=instrument]", "TB-01");
  await page.selectOption("select[name=kind]", "tolerance");
  await Promise.all([page.waitForURL(/kind=tolerance/), page.click("form.filters button")]);
  const kinds = await page.$$eval("table.events td.kind", (tds) => tds.map((td) => td.className));
  assert.ok(kinds.length > 0 && kinds.length <= all, `${kinds.length} of ${all}`);
  assert.ok(kinds.every((k) => k === "kind kind-tolerance"), `kinds: ${kinds}`);
  const insts = await page.$$eval("table.events tbody tr td:nth-child(2)", (tds) =>
    tds.map((td) => td.textContent));
  assert.ok(insts.every((i) => i === "TB-01"), `instruments: ${insts}`);
  assert.match(await page.textContent("p.pager"), /^Page 1 of \d+ \(\d+ events, newest first\)/);
  await page.screenshot({ path: `${shots}/lab-events.png`, fullPage: true });
}

// The enterprise's user: its instruments, a certificate downloaded; then
// the public verification.
async function portal(browser) {
  const context = await browser.newContext({
    viewport: { width: 1100, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  watch(page);
  const cert = process.env.WEB_CERT;

  step = "enterprise login";
  await page.goto(`${url}/?lang=en`);
  assert.match(page.url(), /\/login$/);
  await page.fill("input[name=user]", process.env.WEB_ENTERPRISE);
  await page.fill("input[name=password]", process.env.WEB_ENTERPRISE_PASSWORD);
  await Promise.all([page.waitForURL(/\/instruments$/), page.click("button[type=submit]")]);

  step = "its instruments";
  await page.waitForSelector("a:text('TB-01')");
  assert.match(await page.textContent("table.portal"), new RegExp(cert));
  await page.screenshot({ path: `${shots}/portal.png`, fullPage: true });
  await Promise.all([page.waitForURL(/\/instrument\?name=TB-01$/), page.click("a:text('TB-01')")]);

  step = "its history";
  const row = page.locator("table.history tbody tr", { hasText: cert });
  await row.waitFor();
  assert.match(await row.locator("td.approved").textContent(), /approved by Lê Văn Cường/);
  await page.screenshot({ path: `${shots}/instrument.png`, fullPage: true });

  step = "certificate download";
  const [download] = await Promise.all([
    page.waitForEvent("download", { timeout: 60000 }),
    row.locator("a:text('PDF')").click(),
  ]);
  assert.equal(download.suggestedFilename(), `${cert.replaceAll("/", "_")}.pdf`);
  await download.saveAs(`${shots}/portal-certificate.pdf`);
  const { readFile } = await import("node:fs/promises");
  const pdf = await readFile(`${shots}/portal-certificate.pdf`);
  assert.equal(pdf.subarray(0, 5).toString(), "%PDF-");
  await Promise.all([page.waitForURL(/\/login$/), page.click("form.logout button")]);

  step = "verify";
  await page.goto(`${url}/verify`);
  await page.fill("input[name=qr]", process.env.WEB_QR);
  await Promise.all([page.waitForLoadState("load"), page.click("form.verify button")]);
  await page.waitForSelector("p.verify-match");
  assert.match(await page.textContent("p.verify-match"),
    new RegExp(`^Genuine: certificate ${cert} matches record \\d+, issued .* It is approved\\.$`));
  await page.screenshot({ path: `${shots}/verify.png`, fullPage: true });
  await context.close();
}

try {
  await run();
  console.log("browser: 1 passed, 0 failed");
} catch (e) {
  console.error(`browser: failed at "${step}": ${e.stack || e}`);
  for (const p of problems) {
    console.error(`  ${p}`);
  }
  console.log("browser: 0 passed, 1 failed");
  process.exit(1);
}
