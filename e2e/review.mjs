// End-to-end review flow in headless Chromium (Debian's package, driven by
// playwright-core; nothing is downloaded). Run by
// crates/rampart/tests/e2e_browser.rs, which starts the server and passes:
//   BASE_URL, REVIEWER / REVIEWER_PASSWORD, SECOND / SECOND_PASSWORD,
//   XSS_CASE (id of the case whose post carries script payloads), SHOTS (dir).
// Exits non-zero with a message on the first failed expectation.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`missing environment variable ${k}`);
  return v;
};
const base = env("BASE_URL");
const shots = env("SHOTS");
mkdirSync(shots, { recursive: true });

function expect(cond, msg) {
  if (!cond) throw new Error(`expectation failed: ${msg}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"],
});
const dialogs = [];
let step = 0;
async function shot(page, name) {
  step += 1;
  await page.screenshot({ path: `${shots}/${String(step).padStart(2, "0")}-${name}.png`, fullPage: true });
}

async function login(context, user, password) {
  const page = await context.newPage();
  page.on("dialog", async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  await page.goto(`${base}/queue`);
  expect(page.url().endsWith("/login"), `unauthenticated queue should redirect to /login, got ${page.url()}`);
  await page.fill('input[name="username"]', user);
  await page.fill('input[name="password"]', password);
  await shot(page, `login-${user}`);
  await Promise.all([page.waitForURL(/\/queue$/), page.click('button[type="submit"]')]);
  return page;
}

try {
  // Reviewer: queue → case → evidence → decide with the keyboard → appeal.
  const ctx1 = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await login(ctx1, env("REVIEWER"), env("REVIEWER_PASSWORD"));
  const rows = await page.locator("tr.row").count();
  expect(rows > 0, "the queue lists cases");
  await shot(page, "queue");
  expect(await page.locator("tr.row .badge.campaign").count() > 0, "campaign cases are queued");
  // Keyboard: j moves down to the first post case (campaign cases, the most
  // severe, come first), o opens it.
  const kinds = await page.locator("tr.row").evaluateAll((rs) => rs.map((r) => !!r.querySelector(".badge.campaign")));
  const firstPost = kinds.indexOf(false);
  expect(firstPost >= 0, "the queue has post cases");
  for (let i = 0; i <= firstPost; i++) await page.keyboard.press("j");
  await Promise.all([page.waitForURL(/\/cases\/\d+$/), page.keyboard.press("o")]);
  const caseUrl = page.url();
  const marks = await page.locator("mark.evidence").count();
  expect(marks > 0, "the case page highlights evidence");
  const bg = await page.locator("mark.evidence").first().evaluate((el) => getComputedStyle(el).backgroundColor);
  expect(bg !== "rgba(0, 0, 0, 0)", "evidence marks are visibly highlighted");
  expect(await page.locator("ul.rules li").count() > 0, "the rules that fired are listed");
  await shot(page, "case");
  await page.selectOption('#decide select[name="reason"]', { index: 1 });
  await Promise.all([page.waitForURL(caseUrl), page.keyboard.press("d")]);
  expect((await page.locator("p.decided").innerText()).includes("keep_down"), "the decision is recorded");
  await shot(page, "decided");
  await page.fill('#appeal textarea[name="statement"]', "The account says this was a quote from a film.");
  await Promise.all([page.waitForURL(caseUrl), page.click('#appeal button[type="submit"]')]);
  expect((await page.locator("h1 .status").innerText()).toLowerCase().includes("appealed"), "the case is appealed");
  await shot(page, "appealed");
  // The reviewer cannot decide an appeal of their own decision.
  await page.selectOption('form.appeal-decision select[name="reason"]', { index: 0 });
  await page.click('form.appeal-decision button[value="overturn"]');
  expect((await page.content()).includes("second reviewer"), "own appeal refused");
  await shot(page, "own-appeal-refused");

  // A script payload in a post is shown as text and never runs.
  await page.goto(`${base}/cases/${env("XSS_CASE")}`);
  const pwned = await page.evaluate(() => window.__pwned);
  expect(pwned === undefined, `a script payload executed (window.__pwned = ${pwned})`);
  const text = await page.locator("blockquote.post").innerText();
  expect(text.includes("<script>"), "the payload is displayed as text");
  await shot(page, "script-payload-as-text");

  // Second reviewer: appeals queue → case → decide the appeal.
  const ctx2 = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const second = await login(ctx2, env("SECOND"), env("SECOND_PASSWORD"));
  await second.goto(`${base}/appeals`);
  expect(await second.locator("tr.row").count() > 0, "the appeals queue lists the appeal");
  await shot(second, "appeals-queue");
  await Promise.all([second.waitForURL(/\/cases\/\d+$/), second.locator("tr.row a").first().click()]);
  await second.selectOption('form.appeal-decision select[name="reason"]', { index: 0 });
  await Promise.all([second.waitForURL(/\/cases\/\d+$/), second.click('form.appeal-decision button[value="overturn"]')]);
  const status = (await second.locator("h1 .status").innerText()).toLowerCase();
  expect(status.includes("closed"), `the appeal closes the case (status ${status})`);
  expect((await second.content()).includes("overturn"), "the outcome is shown");
  await shot(second, "appeal-decided");

  expect(dialogs.length === 0, `no dialog may open (got ${JSON.stringify(dialogs)})`);
  console.log(`e2e ok: ${step} screenshots in ${shots}`);
  await browser.close();
} catch (e) {
  console.error(String(e && e.stack || e));
  await browser.close();
  process.exit(1);
}
