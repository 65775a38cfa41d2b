// The console in a real browser (Debian's Chromium, driven by playwright-core):
// the round walk the Rust test (`kernel/tests/console.rs`) prepares on a real
// server. Usage: node tests/browser.mjs SCENARIO.json — {base, chromium, shots,
// draft, forms: [{round, form, cases: [{name, data}]}]}. Prints one line per step;
// exits non-zero at the first failed expectation.
import { readFileSync, mkdirSync } from "node:fs";
import { chromium } from "playwright-core";

const s = JSON.parse(readFileSync(process.argv[2], "utf8"));
mkdirSync(s.shots, { recursive: true });
const browser = await chromium.launch({
  executablePath: s.chromium,
  args: ["--lang=zh-CN", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const step = (m) => console.log(`step: ${m}`);
function expect(cond, what) {
  if (!cond) throw new Error(`expected: ${what}`);
}

async function signedIn(user, password) {
  const ctx = await browser.newContext({ locale: "zh-CN", viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => console.log(`page error: ${e.message}`));
  await page.goto(s.base + "/");
  await page.getByLabel("用户名").fill(user);
  await page.getByLabel("密码").fill(password);
  await page.getByRole("button", { name: "登录", exact: true }).click();
  await page.getByRole("button", { name: "退出登录" }).waitFor();
  return { ctx, page };
}

try {
  // 1. A wrong password is refused, in Chinese.
  {
    const ctx = await browser.newContext({ locale: "zh-CN" });
    const page = await ctx.newPage();
    await page.goto(s.base + "/");
    await page.getByLabel("用户名").fill(s.applicant.user);
    await page.getByLabel("密码").fill("not the password at all");
    await page.getByRole("button", { name: "登录", exact: true }).click();
    await page.getByRole("alert").filter({ hasText: "用户名或密码不正确" }).waitFor();
    step("a wrong password is refused");
    await ctx.close();
  }

  // 2. The applicant: its draft in 我的申报, a blocking finding at its field, fixed, submitted.
  const a = await signedIn(s.applicant.user, s.applicant.password);
  await a.page.getByRole("heading", { name: "我的申报" }).waitFor();
  await a.page.getByRole("link", { name: s.draft }).click();
  await a.page.getByRole("button", { name: "提交" }).waitFor();
  await a.page.screenshot({ path: `${s.shots}/applicant-form.png`, fullPage: false });
  await a.page.getByRole("button", { name: "提交" }).click();
  const finding = a.page.locator(".findings li.blocking").first();
  await finding.waitFor();
  const text = await finding.textContent();
  expect(text.includes(s.fix.finding), `the finding names ${s.fix.finding}: ${text}`);
  // The same message at the field itself.
  const field = a.page.locator(`[id="${s.fix.field_id}"]`);
  await field.waitFor();
  const fieldBox = a.page.locator(`.form-group:has([id="${s.fix.field_id}"])`).first();
  expect((await fieldBox.textContent()).includes(s.fix.finding), "the finding shows at its field");
  await field.scrollIntoViewIfNeeded();
  await a.page.screenshot({ path: `${s.shots}/applicant-finding.png`, fullPage: false });
  step("the blocking finding shows at its field");
  // A real upload of a declared type, with the date the type asks for.
  await a.page.getByLabel("上传用户反馈").setInputFiles({
    name: "用户反馈.pdf",
    mimeType: "application/pdf",
    buffer: Buffer.from("%PDF-1.7 用户反馈（浏览器上传）"),
  });
  await a.page.getByText("用户反馈.pdf").waitFor();
  await a.page.getByLabel(/出具日期/).last().fill("2024-07-01");
  step("an attachment uploaded in the browser");
  await field.fill(s.fix.value);
  await a.page.getByRole("button", { name: "提交" }).click();
  await a.page.getByRole("status").filter({ hasText: "已提交" }).waitFor();
  step("fixed and submitted");

  // Access: another organisation's application, asked for by URL, is not found.
  await a.page.goto(`${s.base}/#/app/${s.other}`);
  await a.page.reload();
  await a.page.getByRole("alert").filter({ hasText: "不存在" }).waitFor();
  // The session cookie does not go along from another site (a page of no origin
  // of ours, as an attacker's would be): its form post reaches the API
  // unauthenticated. (Our own pages could not even send it: CSP form-action 'self'.)
  const evil = await a.ctx.newPage();
  await evil.goto("about:blank");
  await evil.setContent(
    `<form id="f" method="post" enctype="text/plain" action="${s.base}/v1/rounds/${s.round}/applications">` +
      `<input name='{"data":{},"x":"' value='"}'></form>`,
  );
  await Promise.all([evil.waitForNavigation(), evil.evaluate(() => document.getElementById("f").submit())]);
  const answer = await evil.textContent("body");
  expect(answer.includes("unauthenticated"), `a cross-site post is not signed in: ${answer}`);
  await evil.close();
  step("another organisation's application and a cross-site post are refused");

  // 3. The district officer: the queue, the application, a return with an opinion.
  const d = await signedIn(s.district.user, s.district.password);
  await d.page.goto(`${s.base}/#/queue/${s.round}`);
  await d.page.getByRole("link", { name: s.draft }).click();
  await d.page.getByRole("heading", { name: new RegExp(s.draft) }).waitFor();
  // What the submission's check found, as the kernel recorded it.
  await d.page.getByRole("heading", { name: /检查结果/ }).waitFor();
  await d.page.getByLabel(/审核意见/).fill("请补充客户反馈的日期");
  await d.page.getByRole("button", { name: s.return_title, exact: true }).click();
  await d.page.getByRole("heading", { name: new RegExp(`${s.draft}：`) }).filter({ hasText: s.draft_stage_title }).waitFor();
  step("the district returned it");
  // Its queue by tab: the returned application under 退回待提交, with the unit and
  // the project; the arrow keys move between the tabs.
  await d.page.goto(`${s.base}/#/queue/${s.round}`);
  await d.page.getByRole("tab", { name: "退回待提交" }).click();
  const returnedRow = d.page.getByRole("row").filter({ hasText: s.draft });
  await returnedRow.waitFor();
  const rowText = await returnedRow.textContent();
  expect(rowText.includes(s.applicant.name), `the row names the unit: ${rowText}`);
  await d.page.getByRole("tab", { name: "退回待提交" }).press("ArrowRight");
  await d.page.getByRole("tab", { name: "不受理", selected: true }).waitFor();
  expect(
    (await d.page.evaluate(() => document.activeElement?.textContent)) === "不受理",
    "focus follows the arrow key",
  );
  await d.page.screenshot({ path: `${s.shots}/queue-tabs.png`, fullPage: false });
  step("the district's tabs list the returned application");

  // 4. The applicant sees it back, with why, and submits again.
  await a.page.goto(`${s.base}/#/app/${s.draft}`);
  await a.page.reload();
  await a.page.getByRole("cell", { name: "请补充客户反馈的日期" }).waitFor();
  step("the applicant reads why it came back");
  await a.page.getByRole("button", { name: "提交" }).click();
  await a.page.getByRole("status").filter({ hasText: "已提交" }).waitFor();
  step("resubmitted");

  // 5. The district recommends; the city sees the quota and its refusal.
  await d.page.goto(`${s.base}/#/app/${s.draft}`);
  await d.page.reload();
  await d.page.getByLabel(/审核意见/).fill("同意推荐");
  await d.page.getByRole("button", { name: s.recommend_title, exact: true }).click();
  await d.page.getByRole("button", { name: s.recommend_title, exact: true }).waitFor({ state: "detached" });
  step("the district recommended it");
  // The attachment the applicant uploaded downloads under its own name.
  const [file] = await Promise.all([
    d.page.waitForEvent("download"),
    d.page.getByRole("link", { name: "用户反馈.pdf" }).click(),
  ]);
  expect(file.suggestedFilename() === "用户反馈.pdf", `the download is named: ${file.suggestedFilename()}`);
  await d.page.goto(`${s.base}/#/queue/${s.round}`);
  await d.page.getByRole("tab", { name: "已推荐" }).click();
  await d.page.getByRole("row").filter({ hasText: s.draft }).waitFor();
  step("the district downloads the attachment and finds the application under 已推荐");
  const c = await signedIn(s.city.user, s.city.password);
  await c.page.goto(`${s.base}/#/queue/${s.round}`);
  await c.page.getByRole("table", { name: "名额" }).waitFor();
  await c.page.screenshot({ path: `${s.shots}/officer-queue.png`, fullPage: false });
  step("the city's queue shows the quota");
  for (const id of s.city_batch) {
    await c.page.getByLabel(`选择 ${id}`).check();
  }
  await c.page.getByLabel("审核意见").fill("同意推荐");
  await c.page.getByRole("button", { name: new RegExp(`批量${s.city_recommend_title}`) }).click();
  const refusal = c.page.getByRole("alert");
  await refusal.waitFor();
  const said = await refusal.textContent();
  expect(said.includes(s.quota_refusal), `the quota refusal says ${s.quota_refusal}: ${said}`);
  await c.page.screenshot({ path: `${s.shots}/quota-refusal.png`, fullPage: false });
  step("the city's batch is refused by the quota");

  // 6. The city recommends one, within its quota; the province recommends it on
  //    and assigns an expert; the expert scores; the notice is published.
  const act = async (page, title, fill = {}) => {
    await page.goto(`${s.base}/#/app/${s.draft}`);
    await page.reload();
    for (const [label, value] of Object.entries(fill)) await page.getByLabel(label).fill(value);
    await page.getByRole("button", { name: title, exact: true }).click();
    await page.getByRole("status").filter({ hasText: `已${title}` }).waitFor();
  };
  await act(c.page, s.city_recommend_title, { 审核意见: "同意推荐" });
  step("the city recommended it within its quota");
  const p = await signedIn(s.province.user, s.province.password);
  await act(p.page, "省级推荐", { 审核意见: "同意推荐" });
  await act(p.page, "分配专家", { "分配专家（用户名，逗号分隔）": s.expert.user });
  step("the province recommended it and assigned an expert");
  const x = await signedIn(s.expert.user, s.expert.password);
  // The expert finds it on the home page, and an empty score is not a score.
  await x.page.getByRole("heading", { name: "待评审的申报" }).waitFor();
  await x.page.getByRole("link", { name: s.draft }).click();
  await x.page.getByRole("button", { name: "专家评分", exact: true }).click();
  await x.page.getByRole("alert").waitFor();
  // One score per expert-review item of the program (专家评审要点).
  await act(x.page, "专家评分", { ...s.expert_items, 审核意见: "技术先进，案例扎实" });
  step("the expert scored it item by item");
  await act(p.page, "发布公示");
  step("the notice is published");

  // 7. The public objects; the decision waits for the objection to be resolved.
  const pub = await signedIn(s.public.user, s.public.password);
  // The public's form asks for the objection, not a review opinion.
  await act(pub.page, "公示异议", { 异议内容: "案例真实性存疑" });
  step("the public objected");
  await p.page.goto(`${s.base}/#/app/${s.draft}`);
  await p.page.reload();
  const held = p.page.getByRole("list", { name: "暂不能办理" });
  await held.waitFor();
  const why = await held.textContent();
  expect(why.includes("审定通过") && why.includes("异议"), `approval waits for the objection: ${why}`);
  step("approval waits for the objection");

  // 8. The province downloads its summary table (the Rust test reads it).
  await p.page.goto(`${s.base}/#/queue/${s.round}`);
  const [download] = await Promise.all([
    p.page.waitForEvent("download"),
    p.page.getByRole("link", { name: "Excel" }).click(),
  ]);
  await download.saveAs(s.summary_file);
  step("the province downloaded the summary table");

  // 9. A new application in another program: a draft holds only what was filled in
  //    (no preset choices, no made-up optional sections, no nulls).
  await a.page.goto(`${s.base}/#/apply/${s.eco_round}`);
  await a.page.getByLabel("申报方向").selectOption({ index: 1 });
  await a.page.locator("form.rjsf").waitFor();
  await a.page.getByRole("button", { name: "保存草稿" }).click();
  await a.page.getByRole("status").filter({ hasText: "草稿已保存" }).waitFor();
  step("a fresh draft in another program");

  // 10. Every form of every program renders, with every example case's data.
  for (const f of s.forms) {
    for (const cse of f.cases) {
      await a.page.goto(`${s.base}/#/preview/${f.round}/${f.form}`);
      await a.page.getByLabel("示例数据（JSON）").fill(JSON.stringify(cse.data));
      await a.page.getByRole("button", { name: "预览" }).click();
      const form = a.page.locator("form.rjsf");
      await form.waitFor();
      const body = await form.textContent();
      expect(!/不支持的字段|未知的字段类型|Unsupported|Unknown field/.test(body), `${f.form} ${cse.name} renders every field`);
      const verdict = await a.page.getByRole("status").textContent();
      if (!verdict.includes(cse.valid ? "数据通过校验" : "不符合")) {
        const why = await a.page.locator(".findings").textContent({ timeout: 1000 }).catch(() => "");
        expect(false, `${f.form} ${cse.name}: the browser says ${verdict} ${why}, the kernel ${cse.valid ? "valid" : "invalid"}`);
      }
    }
    step(`form ${f.round}/${f.form} renders (${f.cases.length} cases)`);
  }
  // 11. The administrator: programs with their sha256, a plugin installed, imports
  //     with every refused row shown, a calendar, a sign-in code used, a round made
  //     from another with a city's settings and opened, the chain verified, a backup.
  const adm = await signedIn(s.admin.user, s.admin.password);
  await adm.page.getByRole("link", { name: "系统管理" }).click();
  await adm.page.getByText(s.er_sha256).waitFor();
  await adm.page.getByLabel(/安装插件/).setInputFiles(s.minimal_wasm);
  await adm.page.getByRole("button", { name: "安装", exact: true }).click();
  await adm.page.getByRole("status").filter({ hasText: "已安装" }).waitFor();
  expect((await adm.page.getByRole("region", { name: /表单问题/ }).count()) === 0, "a plugin whose forms render well has no form warnings");
  // A plugin whose forms have no fields installs with each problem listed.
  await adm.page.getByLabel(/安装插件/).setInputFiles(s.hostile_wasm);
  await adm.page.getByRole("button", { name: "安装", exact: true }).click();
  const formWarnings = adm.page.getByRole("region", { name: /表单问题/ });
  await formWarnings.waitFor();
  const warned = await formWarnings.locator("li").count();
  expect(warned > 0 && (await formWarnings.textContent()).includes("root"), `each form problem is listed: ${warned}`);
  step("the administrator sees the programs and installs plugins, with their form warnings");
  await adm.page.getByRole("link", { name: "数据导入" }).click();
  await adm.page.getByLabel("导入内容").selectOption("orgs");
  await adm.page.getByLabel("文件").setInputFiles({ name: "单位.csv", mimeType: "text/csv", buffer: Buffer.from(s.bad_orgs_csv) });
  await adm.page.getByRole("button", { name: "导入", exact: true }).click();
  const refused = adm.page.getByRole("table", { name: "有误的行" });
  await refused.waitFor();
  const refusedRows = await refused.locator("tbody tr").count();
  expect(refusedRows === 2, `both refused rows are listed: ${refusedRows}`);
  await adm.page.screenshot({ path: `${s.shots}/admin-import-errors.png`, fullPage: false });
  await adm.page.getByLabel("文件").setInputFiles({ name: "单位.csv", mimeType: "text/csv", buffer: Buffer.from(s.good_orgs_csv) });
  await adm.page.getByRole("button", { name: "导入", exact: true }).click();
  await adm.page.getByRole("status").filter({ hasText: "已导入 1 条" }).waitFor();
  step("an import names every refused row; a good one imports");
  await adm.page.getByRole("link", { name: "工作日历" }).click();
  await adm.page.getByLabel("年度").fill("2025");
  await adm.page.getByRole("button", { name: "保存 2025 年日历" }).waitFor();
  await adm.page.getByLabel(/法定节假日/).fill("2025-10-01, 2025-10-02");
  await adm.page.getByLabel(/调休上班日/).fill("2025-09-28");
  await adm.page.getByRole("button", { name: "保存 2025 年日历" }).click();
  await adm.page.getByRole("status").filter({ hasText: "已保存 2025 年日历" }).waitFor();
  step("a year's calendar set");
  await adm.page.getByRole("link", { name: "用户与令牌" }).click();
  await adm.page.getByRole("row").filter({ hasText: s.code_user }).getByRole("button", { name: "一次性登录码" }).click();
  const code = (await adm.page.locator("code.secret").textContent()).trim();
  {
    const ctx = await browser.newContext({ locale: "zh-CN" });
    const page = await ctx.newPage();
    await page.goto(s.base + "/");
    await page.getByRole("button", { name: /首次登录/ }).click();
    await page.getByLabel("用户名").fill(s.code_user);
    await page.getByLabel("一次性登录码").fill(code);
    await page.getByLabel(/设置新密码/).fill("a new password of my own");
    await page.getByRole("button", { name: "设置密码并登录" }).click();
    await page.getByRole("button", { name: "退出登录" }).waitFor();
    await ctx.close();
  }
  step("a one-time code from the console signs a new user in");
  await adm.page.getByRole("link", { name: "申报批次" }).click();
  await adm.page.getByRole("row").filter({ hasText: s.round }).getByRole("button", { name: "以此为模板新建" }).click();
  await adm.page.getByLabel("批次编号").fill(s.new_round);
  await adm.page.getByLabel("批次（可选）").fill("2024Q4");
  await adm.page.getByLabel("广州市 需要区县审核").check();
  await adm.page.getByLabel("广州市 区县审核截止").fill("2024-09-06 23:59:59");
  await adm.page.getByRole("button", { name: "保存", exact: true }).click();
  const newRow = adm.page.getByRole("row").filter({ hasText: s.new_round });
  await newRow.getByRole("button", { name: "开启" }).click();
  await newRow.getByRole("cell", { name: "进行中" }).waitFor();
  step("a round made from another, with a city's settings, and opened");
  await adm.page.getByRole("link", { name: "审计与备份" }).click();
  await adm.page.getByRole("button", { name: "校验" }).click();
  await adm.page.getByRole("status").filter({ hasText: "决定链完整" }).waitFor();
  await adm.page.getByRole("button", { name: "备份", exact: true }).click();
  const backupLink = adm.page.getByRole("link", { name: /下载/ });
  await backupLink.waitFor();
  const [backup] = await Promise.all([adm.page.waitForEvent("download"), backupLink.click()]);
  await backup.saveAs(s.backup_file);
  step("the chain verified and a backup downloaded");
  // Closing the walk's round, whose application waits at the public notice, is refused
  // with the reason; closing it anyway takes a confirmation.
  await adm.page.getByRole("link", { name: "申报批次" }).click();
  const walked = adm.page.getByRole("row").filter({ hasText: s.round });
  await walked.getByRole("button", { name: "关闭", exact: true }).click();
  await adm.page.getByRole("alert").filter({ hasText: /仍有 \d+ 件申报处于评审、专家评审或公示环节/ }).waitFor();
  await walked.getByRole("cell", { name: "进行中" }).waitFor();
  adm.page.once("dialog", (d) => d.accept());
  await adm.page.getByRole("button", { name: `仍然关闭批次 ${s.round}` }).click();
  await walked.getByRole("cell", { name: "已关闭" }).waitFor();
  step("closing a round with an application under review is refused, then forced");

  console.log("ok: console walk passed");
} catch (e) {
  console.error(`FAILED: ${e.message}`);
  process.exitCode = 1;
  // What each page showed when it failed.
  let n = 0;
  for (const ctx of browser.contexts()) {
    for (const p of ctx.pages()) {
      await p.screenshot({ path: `${s.shots}/failed-${n++}.png`, fullPage: true }).catch(() => {});
      console.error(`page ${n - 1}: ${p.url()}: ${(await p.locator("main").textContent().catch(() => "")).slice(0, 400)}`);
    }
  }
} finally {
  await browser.close();
}
