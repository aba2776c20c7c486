import { launchBrowser } from "./test/browsers.mjs";
import { startServer, waitReady, USERNAME, PASSWORD, navigateAndWait } from "./test/harness.mjs";
import puppeteer from "puppeteer-core";
const server = await startServer({ appPort: 28690, opPort: 29700 });
try {
  const b = await puppeteer.launch({ browser: "chrome", executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-gpu"] });
  const page = await b.newPage();
  await page.setViewport({ width: 900, height: 1800 });
  page.on("console", (m) => console.log("console:", m.text()));
  await page.goto(server.appOrigin + "/");
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  console.log("notice:", await page.$eval("#notice", (e) => e.dataset.kind + " " + e.textContent));
  await page.screenshot({ path: "/tmp/demo-signed-out.png", fullPage: true });
  await page.click("#login");
  await page.waitForSelector("#username");
  await page.type("#username", USERNAME); await page.type("#password", PASSWORD);
  await Promise.all([page.waitForNavigation(), page.click("#sign-in")]);
  await page.waitForSelector('#status[data-state="signed-in"]', { timeout: 20000 });
  await page.click("#call-api");
  await page.waitForSelector('#api-result[data-status="200"]');
  await page.click("#refresh-now");
  await new Promise((r) => setTimeout(r, 1000));
  await page.click("#steal");
  await page.waitForSelector('#steal-result[data-found="no"], #steal-result[data-found="yes"]');
  console.log("steal:", await page.$eval("#steal-result", (e) => e.dataset.found + " " + e.textContent));
  await page.screenshot({ path: "/tmp/demo-signed-in.png", fullPage: true });
  await page.goto(server.appOrigin + "/?isolation=page");
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  console.log("page mode:", await page.$eval("#status", (e) => e.textContent), await page.$eval("#notice", (e) => e.dataset.kind + " " + e.textContent));
  await page.click("#steal");
  await page.waitForSelector('#steal-result[data-found="no"], #steal-result[data-found="yes"]');
  console.log("steal page:", await page.$eval("#steal-result", (e) => e.dataset.found + " " + e.textContent));
  await page.screenshot({ path: "/tmp/demo-page-mode.png", fullPage: true });
  await b.close();
} finally {
  await server.stop();
}
