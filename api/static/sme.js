// The SME self-check (GET /): builds a SPEC §2 profile from what a firm owner types (万元, %,
// words for the industry), asks the follow-up questions the result names (next_questions, the
// value at stake first), and shows the result grouped for people. Plain JS, no build step; every
// request goes to this server. The answers are kept in the page and in the URL fragment (#a=…),
// which browsers never send to a server, so a shared link reproduces the result without storing it.
"use strict";

const META = JSON.parse(document.getElementById("sme-meta").textContent);
const FIELDS = META.fields;
const FIRM_ID = "self-check";
const QUESTIONS_AT_ONCE = 3;
const SHOWN_PENDING = 5;      // undetermined policies listed before "show the rest"
const $ = (id) => document.getElementById(id);

const state = {answers: {}, skipped: new Set(), result: null, details: {}, shown: [], industryName: "",
               asOf: validDate(new URLSearchParams(location.search).get("as_of"))};   // default: today
const basics = {};      // field -> widget on the first form
let followups = {};     // field -> widget among the questions shown

// ------------------------------------------------------------------ text helpers
function validDate(text) { return /^\d{4}-\d{2}-\d{2}$/.test(text || "") ? text : ""; }
function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}
function zhPart(text) { return String(text ?? "").split(" / ")[0]; }
function enPart(text) { const parts = String(text ?? "").split(" / "); return parts.length > 1 ? parts.slice(1).join(" / ") : ""; }
function yuan(v) { return "¥" + Math.round(v).toLocaleString("en-US"); }
function wanText(v) {
  const w = v / 10000;
  return (Math.abs(w) >= 1 ? w.toLocaleString("zh-CN", {maximumFractionDigits: 2}) : w.toPrecision(2)) + " 万元";
}
function label(field) { return (FIELDS[field] || {zh: field}).zh; }

// ------------------------------------------------------------------ parsing what people type
function cleanNumber(raw) {
  return raw.trim().replace(/[,，\s]/g, "").replace(/[元人个项年%％]$/u, "").replace(/万$/u, "");
}
const PARSERS = {
  yuan(raw, field) {
    let text = raw.trim().replace(/[,，\s]/g, "").replace(/元$/u, "");
    let factor = 10000;                                    // the box is in 万元
    if (/亿$/u.test(text)) { factor = 1e8; text = text.slice(0, -1); } else text = text.replace(/万$/u, "");
    if (!/^-?\d+(\.\d+)?$/.test(text)) return {error: "请填写数字（单位：万元），例如 6000"};
    const v = Math.round(parseFloat(text) * factor * 100) / 100;
    if (v < 0 && field !== "taxable_income") return {error: "不能为负数"};
    return {value: v};
  },
  share(raw) {
    const text = cleanNumber(raw);
    if (!/^\d+(\.\d+)?$/.test(text)) return {error: "请填写百分比数字，例如 70 表示 70%"};
    const v = parseFloat(text);
    if (v > 100) return {error: "百分比应在 0 到 100 之间"};
    return {value: Math.round(v * 1e4) / 1e6};
  },
  count(raw) {
    const text = cleanNumber(raw);
    if (!/^\d+$/.test(text)) return {error: "请填写不小于 0 的整数"};
    return {value: parseInt(text, 10)};
  },
  years(raw) {
    const text = cleanNumber(raw);
    if (!/^\d+(\.\d+)?$/.test(text)) return {error: "请填写年数，例如 3"};
    return {value: parseFloat(text)};
  },
  date(raw) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(raw)) return {error: "请选择日期"};
    if (raw > new Date().toISOString().slice(0, 10)) return {error: "不能晚于今天"};
    return {value: raw};
  },
};
const UNIT_WORD = {yuan: "万元", share: "%", count: "人", years: "年"};

// ------------------------------------------------------------------ widgets (one per field and unit)
function widget(field, prefix) {
  const meta = FIELDS[field];
  const id = `${prefix}-${field}`;
  const box = document.createElement("div");
  box.className = "field";
  box.dataset.field = field;
  const hint = meta.hint ? `<p class="hint" id="h-${id}">${esc(meta.hint)}</p>` : "";
  const describedBy = meta.hint ? `h-${id}` : "";
  const err = `<p class="field-error" id="e-${id}" hidden></p>`;
  const w = {field, box, errorEl: null, focusEl: null};
  const unit = meta.unit;
  if (unit === "bool" || unit === "titles") {
    const options = unit === "bool"
      ? `<label><input type="radio" name="${id}" value="true"> 是 <small>Yes</small></label>
         <label><input type="radio" name="${id}" value="false"> 否 <small>No</small></label>`
      : META.titles.map((t) => `<label><input type="checkbox" name="${id}" value="${t.id}"> ${esc(t.zh)}</label>`).join("")
        + `<label class="none"><input type="checkbox" name="${id}" value="none"> <b>以上都没有</b> <small>None of these</small></label>`;
    box.innerHTML = `<fieldset class="choices" id="${id}" aria-describedby="${describedBy} e-${id}">
      <legend>${esc(meta.zh)} <small lang="en">${esc(meta.en)}</small></legend>${hint}<div class="options">${options}</div>${err}</fieldset>`;
    const inputs = () => [...box.querySelectorAll(`input[name="${id}"]`)];
    w.focusEl = () => inputs()[0];
    w.invalidEl = () => box.querySelector("fieldset");
    if (unit === "titles") {
      box.addEventListener("change", (ev) => {             // "none of these" and a title exclude each other
        if (ev.target.value === "none" && ev.target.checked) inputs().forEach((i) => { if (i.value !== "none") i.checked = false; });
        else if (ev.target.checked) inputs().forEach((i) => { if (i.value === "none") i.checked = false; });
      });
      w.read = () => {
        const picked = inputs().filter((i) => i.checked).map((i) => i.value);
        if (!picked.length) return {};
        return {value: picked.includes("none") ? [] : picked};
      };
      w.write = (v) => inputs().forEach((i) => { i.checked = Array.isArray(v) && (v.length ? v.includes(i.value) : i.value === "none"); });
    } else {
      w.read = () => { const c = inputs().find((i) => i.checked); return c ? {value: c.value === "true"} : {}; };
      w.write = (v) => inputs().forEach((i) => { i.checked = v !== undefined && i.value === String(v); });
    }
  } else if (unit === "choice") {
    const opts = Object.entries(meta.choices).map(([v, t]) => `<option value="${esc(v)}">${esc(t)}</option>`).join("");
    box.innerHTML = `<label for="${id}">${esc(meta.zh)} <small lang="en">${esc(meta.en)}</small></label>
      <select id="${id}" aria-describedby="${describedBy} e-${id}"><option value="">— 不清楚 Not sure —</option>${opts}</select>${hint}${err}`;
    const sel = () => box.querySelector("select");
    w.focusEl = sel; w.invalidEl = sel;
    w.read = () => (sel().value ? {value: sel().value} : {});
    w.write = (v) => { sel().value = v ?? ""; };
  } else {
    const word = UNIT_WORD[unit] || "";
    const type = unit === "date" ? "date" : "text";
    const mode = unit === "count" ? "numeric" : "decimal";
    const echo = unit === "yuan" ? `<output class="echo" id="o-${id}" for="${id}"></output>` : "";
    const inLabel = unit === "yuan" || unit === "share" ? `（${word}）` : "";
    box.innerHTML = `<label for="${id}">${esc(meta.zh)}${inLabel} <small lang="en">${esc(meta.en)}</small></label>
      <div class="with-unit"><input id="${id}" type="${type}" ${type === "text" ? `inputmode="${mode}"` : ""} autocomplete="off"
        aria-describedby="${describedBy} e-${id}">${word ? `<span class="unit" aria-hidden="true">${word}</span>` : ""}</div>${echo}${hint}${err}`;
    const input = () => box.querySelector("input");
    w.focusEl = input; w.invalidEl = input;
    const parse = PARSERS[unit] || ((raw) => ({value: raw.trim()}));
    w.read = () => (input().value.trim() === "" ? {} : parse(input().value, field));
    w.write = (v) => {
      if (v === undefined || v === null) { input().value = ""; }
      else if (unit === "yuan") input().value = String(Math.round((v / 10000) * 1e6) / 1e6);
      else if (unit === "share") input().value = String(Math.round(v * 1e6) / 1e4);
      else input().value = String(v);
      showEcho();
    };
    const showEcho = () => {
      if (unit !== "yuan") return;
      const r = w.read();
      box.querySelector("output").textContent = r.value !== undefined ? `= ${Math.round(r.value).toLocaleString("en-US")} 元` : "";
    };
    box.addEventListener("input", () => { showEcho(); clearInvalid(w); });
  }
  w.errorEl = () => box.querySelector(".field-error");
  return w;
}

function simpleWidget(field, el, read, write) {
  return {field, box: el.closest(".field"), focusEl: () => el, invalidEl: () => el, read, write,
          errorEl: () => { let e = $(`e-${el.id}`); if (!e) { e = document.createElement("p"); e.className = "field-error"; e.id = `e-${el.id}`; e.hidden = true; el.closest(".field").append(e); el.setAttribute("aria-describedby", `${el.getAttribute("aria-describedby") || ""} e-${el.id}`.trim()); } return e; }};
}

function setInvalid(w, message) {
  const el = w.invalidEl();
  el.setAttribute("aria-invalid", "true");
  const e = w.errorEl();
  e.textContent = message;
  e.hidden = false;
}
function clearInvalid(w) {
  w.invalidEl().removeAttribute("aria-invalid");
  const e = w.errorEl();
  e.hidden = true;
  e.textContent = "";
}

// ------------------------------------------------------------------ the first form
function setUpBasics() {
  for (const slot of document.querySelectorAll("[data-slot]")) {
    const w = widget(slot.dataset.slot, "f");
    slot.replaceWith(w.box);
    basics[w.field] = w;
  }
  const credit = $("f-credit_code");
  basics.credit_code = simpleWidget("credit_code", credit, () => {
    const v = credit.value.trim().toUpperCase();
    if (!v) return {};
    return v.length === 18 ? {value: v} : {error: `应为 18 位，现为 ${v.length} 位`};
  }, (v) => { credit.value = v ?? ""; });
  credit.addEventListener("input", () => {
    clearInvalid(basics.credit_code);
    const region = credit.value.trim().slice(2, 8);
    if (credit.value.trim().length >= 8 && META.districts[region] && !$("f-region_code").value) {
      $("f-region_code").value = region;
      $("h-credit_code").textContent = `已按信用代码识别区县：${META.districts[region]}`;
    }
  });
  const region = $("f-region_code");
  basics.region_code = simpleWidget("region_code", region,
    () => (region.value ? {value: region.value} : {error: "请选择企业注册所在的区县"}), (v) => { region.value = v ?? ""; });
  region.addEventListener("change", () => clearInvalid(basics.region_code));
  const date = $("f-established_on");
  basics.established_on = simpleWidget("established_on", date, () => (date.value ? PARSERS.date(date.value) : {}),
    (v) => { date.value = v ?? ""; });
  setUpIndustry();
  $("basics").addEventListener("input", plausibility);
  $("basics").addEventListener("submit", (ev) => { ev.preventDefault(); submitBasics(); });
}

// ------------------------------------------------------------------ industry: words or pinyin → GB/T 4754
let industryCode = "";
let suggestions = [];
let active = -1;
let lookupTimer = null;

function setUpIndustry() {
  const input = $("f-industry_code");
  const list = $("industry-list");
  basics.industry_code = simpleWidget("industry_code", input,
    () => (industryCode ? {value: industryCode}
      : {error: input.value.trim() ? "请从建议列表中选择一个行业" : "请输入行业关键词（如“汽车零部件”）并从列表中选择"}),
    (v) => { industryCode = v ?? ""; });
  input.addEventListener("input", () => {
    industryCode = "";
    $("industry-picked").textContent = "";
    clearInvalid(basics.industry_code);
    clearTimeout(lookupTimer);
    lookupTimer = setTimeout(() => suggest(input.value), 150);
  });
  input.addEventListener("keydown", (ev) => {
    if (list.hidden || !suggestions.length) return;
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      active = (active + (ev.key === "ArrowDown" ? 1 : suggestions.length - 1)) % suggestions.length;
      showSuggestions();
    } else if (ev.key === "Enter" && active >= 0) {
      ev.preventDefault();
      pickIndustry(suggestions[active]);
    } else if (ev.key === "Escape") {
      closeSuggestions();
    }
  });
  list.addEventListener("mousedown", (ev) => ev.preventDefault());      // keep focus in the input
  list.addEventListener("click", (ev) => {
    const li = ev.target.closest("li[data-index]");
    if (li) pickIndustry(suggestions[Number(li.dataset.index)]);
  });
  input.addEventListener("blur", () => setTimeout(closeSuggestions, 100));
}

async function lookupIndustries(q, limit) {
  const resp = await fetch(`/v1/reference/industries?limit=${limit}&q=${encodeURIComponent(q.trim())}`);
  return resp.ok ? (await resp.json()).items : [];
}

async function suggest(q) {
  if (!q.trim()) { closeSuggestions(); return; }
  suggestions = await lookupIndustries(q.slice(0, 50), 8);
  active = suggestions.length ? 0 : -1;
  showSuggestions();
}

function showSuggestions() {
  const input = $("f-industry_code");
  const list = $("industry-list");
  list.innerHTML = suggestions.length
    ? suggestions.map((s, i) => `<li role="option" id="opt-${i}" data-index="${i}" aria-selected="${i === active}">
        ${esc(s.name_zh)} <small>${esc(s.code)}</small></li>`).join("")
    : `<li class="empty" role="option" aria-disabled="true">没有找到，换个说法试试（例如“软件”“餐饮”）</li>`;
  list.hidden = false;
  input.setAttribute("aria-expanded", "true");
  if (active >= 0) input.setAttribute("aria-activedescendant", `opt-${active}`);
  else input.removeAttribute("aria-activedescendant");
}

function closeSuggestions() {
  $("industry-list").hidden = true;
  $("f-industry_code").setAttribute("aria-expanded", "false");
  $("f-industry_code").removeAttribute("aria-activedescendant");
}

function pickIndustry(item) {
  industryCode = item.code;
  state.industryName = item.name_zh;
  $("f-industry_code").value = item.name_zh;
  $("industry-picked").textContent = `已选择：${item.name_zh}（行业代码 ${item.code}）`;
  clearInvalid(basics.industry_code);
  closeSuggestions();
}

// ------------------------------------------------------------------ plausibility (warns, never blocks)
function plausibility() {
  const v = (f) => basics[f].read().value;
  const employees = v("employees"), revenue = v("revenue"), rdStaff = v("rd_staff"), rd = v("rd_expense");
  const out = [];
  if (employees > 0 && revenue !== undefined) {
    const per = revenue / employees;
    if (per < 10000) out.push(`每名职工的年营业收入只有约 ${yuan(per)}，偏低：营业收入的单位是“万元”（6000 万元填 6000），请核对。`);
    else if (per > 5e7) out.push(`每名职工的年营业收入约 ${wanText(per)}，偏高：请核对营业收入（万元）和职工人数。`);
  }
  if (rdStaff !== undefined && employees !== undefined && rdStaff > employees) {
    out.push(`研发人员（${rdStaff} 人）多于职工人数（${employees} 人），请核对。`);
  }
  if (rd !== undefined && revenue !== undefined && revenue > 0 && rd > revenue) {
    out.push("研发费用高于营业收入，请核对单位（万元）。");
  }
  $("warnings").innerHTML = out.map((t) => `<p class="warning">⚠ ${esc(t)} <small>(check the figures; this does not stop you)</small></p>`).join("");
}

// ------------------------------------------------------------------ reading forms, showing errors
function collect(widgets, summaryId) {
  const values = {};
  const bad = [];
  for (const w of Object.values(widgets)) {
    clearInvalid(w);
    const r = w.read();
    if (r.error) { bad.push(w); setInvalid(w, `${label(w.field)}：${r.error}`); }
    else values[w.field] = r.value;
  }
  showSummary(summaryId, bad);
  return bad.length ? null : values;
}

function showBasics(open) {
  $("basics-body").hidden = !open;
  $("edit-bar").hidden = open || !state.result;
  $("edit-basics").setAttribute("aria-expanded", String(open));
}

function basicsSummary() {
  const a = state.answers;
  const parts = [META.districts[a.region_code], state.industryName || a.industry_code,
                 a.employees !== undefined ? `${a.employees} 人` : "", a.revenue !== undefined ? `营业收入 ${wanText(a.revenue)}` : ""];
  return parts.filter(Boolean).join(" · ");
}

function showSummary(summaryId, bad) {
  const box = $(summaryId);
  if (bad.some((w) => $("basics-body").contains(w.focusEl()))) showBasics(true);
  bad.sort((a, b) => (a.focusEl().compareDocumentPosition(b.focusEl()) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
  if (!bad.length) { box.hidden = true; box.innerHTML = ""; return; }
  box.innerHTML = `<p>请修改以下 ${bad.length} 项 <small>Please correct:</small></p><ul>${bad.map((w) =>
    `<li><a href="#${w.focusEl().id}">${esc(w.errorEl().textContent)}</a></li>`).join("")}</ul>`;
  box.hidden = false;
  bad[0].focusEl().focus();
}

async function submitBasics() {
  if (!industryCode && $("f-industry_code").value.trim()) {          // typed a whole name or a code: take it
    const text = $("f-industry_code").value.trim();
    const [top] = await lookupIndustries(text, 1);
    if (top && (top.name_zh === text || top.code === text.toUpperCase())) pickIndustry(top);
  }
  const values = collect(basics, "form-errors");
  if (!values) return;
  for (const [f, v] of Object.entries(values)) {
    if (v === undefined) delete state.answers[f]; else state.answers[f] = v;
  }
  await run();
}

// ------------------------------------------------------------------ matching
function profile() {
  const p = {firm_id: FIRM_ID};
  for (const [f, v] of Object.entries(state.answers)) if (v !== undefined && f in FIELDS) p[f] = v;
  return p;
}

async function run() {
  const button = $("check");
  button.disabled = true;
  $("results").setAttribute("aria-busy", "true");
  try {
    const asOf = state.asOf ? `&as_of=${state.asOf}` : "";
    const resp = await fetch(`/v1/match?explain=true&top_k=100${asOf}`, {method: "POST",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify(profile())});
    const body = await resp.json();
    if (!resp.ok) { serverErrors(body); return; }
    state.result = body;
    await fetchDetails(body.matches.filter((m) => m.verdict === "eligible").map((m) => m.policy_id));
    saveToLink();
    render();
  } catch (err) {
    showSummary("form-errors", []);
    $("form-errors").innerHTML = `<p>暂时无法连接服务，请稍后再试。<small>${esc(err)}</small></p>`;
    $("form-errors").hidden = false;
  } finally {
    button.disabled = false;
    $("results").setAttribute("aria-busy", "false");
  }
}

function serverErrors(body) {
  const bad = [];
  for (const issue of body.issues || []) {
    const field = String(issue.field).replace(/^body\./, "").split(".")[0];
    const w = followups[field] || basics[field];
    if (!w) continue;
    setInvalid(w, `${label(field)}：填写有误，请核对（${issue.reason}）`);
    bad.push(w);
  }
  const inQuestions = bad.length && followups[bad[0].field];
  if (bad.length) showSummary(inQuestions ? "followup-errors" : "form-errors", bad);
  else { $("form-errors").innerHTML = `<p>${esc(body.detail)}</p>`; $("form-errors").hidden = false; }
}

async function fetchDetails(ids) {
  await Promise.all(ids.filter((id) => !(id in state.details)).map(async (id) => {
    const resp = await fetch(`/v1/policies/${encodeURIComponent(id)}`);
    if (resp.ok) state.details[id] = await resp.json();
  }));
}

// ------------------------------------------------------------------ the shareable link (#a=…)
function encodeState() {
  const json = JSON.stringify({a: state.answers, s: [...state.skipped], n: state.industryName, d: state.asOf});
  const bytes = new TextEncoder().encode(json);
  let bin = "";
  bytes.forEach((b) => { bin += String.fromCharCode(b); });
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
function decodeState(text) {
  const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
}
function saveToLink() { history.replaceState(null, "", `#a=${encodeState()}`); }

async function loadFromLink() {
  if (!location.hash.startsWith("#a=")) return;
  let saved;
  try { saved = decodeState(location.hash.slice(3)); } catch (err) { return; }
  state.answers = Object.fromEntries(Object.entries(saved.a || {}).filter(([f]) => f in FIELDS));
  state.skipped = new Set(saved.s || []);
  state.asOf = validDate(saved.d) || state.asOf;
  for (const [f, w] of Object.entries(basics)) w.write(state.answers[f]);
  if (state.answers.industry_code) {
    industryCode = state.answers.industry_code;
    state.industryName = saved.n || "";
    $("f-industry_code").value = state.industryName || industryCode;
    $("industry-picked").textContent = `已选择：${state.industryName}（行业代码 ${industryCode}）`;
  }
  plausibility();
  await run();
}

// ------------------------------------------------------------------ follow-up questions
function pendingQuestions() {
  return (state.result.next_questions || []).filter((q) => q.field in FIELDS && !state.skipped.has(q.field)
                                                         && state.answers[q.field] === undefined);
}

function renderQuestions() {
  const pending = pendingQuestions();
  state.shown = pending.slice(0, QUESTIONS_AT_ONCE);
  followups = {};
  const list = $("question-list");
  list.innerHTML = "";
  for (const q of state.shown) {
    const w = widget(q.field, "q");
    const n = q.settles.length;
    const stake = q.value_at_stake > 0 ? `关系到约 ${yuan(q.value_at_stake)} 的政策（${n} 项）` : `关系到 ${n} 项政策的判断`;
    const item = document.createElement("div");
    item.className = "question";
    item.innerHTML = `<p class="stake">${esc(stake)}</p>`;
    item.append(w.box);
    const skip = document.createElement("button");
    skip.type = "button";
    skip.className = "link skip-question";
    skip.textContent = "跳过此题 Skip";
    skip.setAttribute("aria-label", `跳过：${FIELDS[q.field].zh}`);
    skip.addEventListener("click", () => {
      state.skipped.add(q.field);
      saveToLink();
      renderQuestions();
      const next = Object.values(followups)[0];
      (next ? next.focusEl() : $("results-heading")).focus();
    });
    item.append(skip);
    list.append(item);
    followups[q.field] = w;
  }
  $("questions").hidden = !state.shown.length;
  $("no-questions").hidden = !!state.shown.length;
  $("followup-errors").hidden = true;
}

async function submitFollowups() {
  const values = collect(followups, "followup-errors");
  if (!values) return;
  for (const w of Object.values(followups)) {
    const v = values[w.field];
    if (v === undefined) state.skipped.add(w.field);     // left blank: the firm does not know
    else {
      state.answers[w.field] = v;
      if (basics[w.field]) basics[w.field].write(v);
    }
  }
  await run();
}

// ------------------------------------------------------------------ the result, grouped
function windowText(w) {
  if (!w) return "";
  if (w.status === "closed") return `已截止${w.closes ? `（${w.closes}）` : ""}`;
  if (w.status === "upcoming") return `${w.opens} 起可申请`;
  if (w.closes) return `申请截止 ${w.closes}（还剩 ${w.days_left} 天）`;
  return "目前可申请，未设截止日期";
}

function valueText(m) {
  const b = m.benefit || {};
  if (m.estimated_benefit === null || m.estimated_benefit === undefined) return "金额未知";
  let text = `约 ${yuan(m.estimated_benefit)}`;
  if (b.low !== undefined && b.high !== undefined && b.low !== b.high) text += `（${yuan(b.low)}–${yuan(b.high)}）`;
  if (b.years > 1 && b.per_year) text += `，每年约 ${yuan(b.per_year)}，共 ${b.years} 年`;
  return text;
}

const HOW_TO_APPLY = {      // by benefit kind: where a firm goes to get it
  tax_saving: "在纳税申报时按规定自行申报享受（留存相关资料备查），无需另行审批。",
  fee_waiver: "在缴纳相关税费时按规定申报减免。",
  refund: "向主管税务机关（或社保经办机构）提交退还申请。",
  deferral: "向社保经办机构（或主管税务机关）申请缓缴。",
  loan: "向合作银行或担保机构提出贷款申请。",
};

function howToApply(m, issuer) {
  const kind = (m.benefit || {}).kind;
  if (HOW_TO_APPLY[kind]) return HOW_TO_APPLY[kind] + "具体要求见“政策依据”所列文件。";
  return `${issuer ? `向${issuer}（或所在区县主管部门）` : "向主管部门"}申报，按“政策依据”所列文件准备材料。`;
}

function titleOf(m) {
  return `<h4>${esc(zhPart(m.title))} <small lang="en">${esc(enPart(m.title))}</small></h4>`;
}

function eligibleCard(m) {
  const d = state.details[m.policy_id];
  const issuer = d ? d.issuer.name_zh : "";
  const note = m.application_window && m.application_window.note ? zhPart(m.application_window.note) : "";
  const refs = (m.references || []).map((r) => /^https?:\/\//.test(r)
    ? `<li><a href="${esc(r)}">${esc(r)}</a></li>` : `<li>${esc(r)}</li>`).join("");
  const verify = (m.verify_yourself || []).length;
  const stacked = m.relations && m.relations.not_stacked
    ? `<p class="note">与其他政策不可叠加，未计入合计：${esc(zhPart(m.relations.not_stacked.reason))}</p>` : "";
  return `<article class="card eligible">${titleOf(m)}
    <p class="value">${esc(valueText(m))}</p>
    ${m.benefit && m.benefit.description ? `<p class="formula"><b>怎么算：</b>${esc(zhPart(m.benefit.description))}</p>` : ""}
    <dl>
      <dt>申请时间</dt><dd class="deadline">${esc(windowText(m.application_window))}${note ? `<br><small>${esc(note)}</small>` : ""}</dd>
      ${issuer ? `<dt>发布部门</dt><dd>${esc(issuer)}</dd>` : ""}
      <dt>如何申请</dt><dd>${esc(howToApply(m, issuer))}${verify ? `申请前请先核实下方“请自行核实”中的 ${verify} 项条件。` : ""}</dd>
    </dl>${stacked}
    <details><summary>政策依据 References</summary><ul class="refs">${refs}</ul></details>
  </article>`;
}

function undeterminedItem(m) {
  const missing = (m.missing_fields || []).map(label);
  const value = m.estimated_benefit ? `如符合，约 ${yuan(m.estimated_benefit)}` : "金额未知";
  const verify = (m.verify_yourself || []).length;
  const need = missing.length ? `还需了解：${missing.join("、")}` : "";
  const own = verify ? `${verify} 项条件需自行核实` : "";
  return `<li class="pending"><b>${esc(zhPart(m.title))}</b> <span class="value">${esc(value)}</span>
    <br><small>${esc([need, own].filter(Boolean).join("；"))}</small></li>`;
}

function undeterminedList(items) {
  if (!items.length) return [];
  const first = items.slice(0, SHOWN_PENDING).map(undeterminedItem).join("");
  const rest = items.slice(SHOWN_PENDING);
  const more = rest.length ? `<details><summary>其余 ${rest.length} 项 <small>${rest.length} more</small></summary>
    <ul class="pending-list">${rest.map(undeterminedItem).join("")}</ul></details>` : "";
  return [`<ul class="pending-list">${first}</ul>${more}`];
}

function verifyCard(m) {
  const items = m.verify_yourself.map((v) => `<li><span class="tag verify">待核实</span> ${esc(zhPart(v.label))}
    ${v.clause ? `<small>（依据：${esc(v.clause)}）</small>` : ""}</li>`).join("");
  return `<article class="card verify">${titleOf(m)}<ul>${items}</ul></article>`;
}

function nearCard(n) {
  const steps = (n.what_it_takes.steps || []).map((s) => `<li>${esc(s.text_zh)}</li>`).join("");
  const value = n.estimated_benefit ? `约 ${yuan(n.estimated_benefit)}` : "金额未知";
  return `<article class="card near">${titleOf(n)}<p class="value">${esc(value)}</p><ol>${steps}</ol></article>`;
}

function group(id, heading, intro, cards) {
  if (!cards.length) return "";
  return `<section class="group" id="${id}" aria-labelledby="${id}-h"><h3 id="${id}-h">${heading}</h3>
    <p class="intro">${intro}</p>${cards.join("")}</section>`;
}

function render() {
  const r = state.result;
  const eligible = r.matches.filter((m) => m.verdict === "eligible");
  const undetermined = r.matches.filter((m) => m.verdict === "undetermined");
  const breakdown = r.total_breakdown || {counted: [], value_unknown: []};
  const counted = breakdown.counted.length;
  const unknown = breakdown.value_unknown.length;
  let total = "暂时没有确定可以申请的政策";
  if (counted) total = `${counted} 项政策合计约 ${yuan(r.total_estimated_benefit_per_year)}/年` + (unknown ? `；另有 ${unknown} 项金额未知` : "");
  else if (eligible.length) total = `${eligible.length} 项政策可以申请` + (unknown ? `，金额未知` : "");
  if (undetermined.length) total += `；${undetermined.length} 项还不能确定`;
  $("total").textContent = total + "。";
  $("as-of").textContent = `评估日期 ${r.as_of}。金额为按政策规则的估算，以主管部门审核为准。`;
  const withVerify = eligible.filter((m) => (m.verify_yourself || []).length);
  $("groups").innerHTML =
    group("g-eligible", "可以申请 <small>Eligible</small>", "根据您填写的信息，以下政策的条件都已满足。", eligible.map(eligibleCard))
    + group("g-undetermined", "还不能确定 <small>Needs your answer</small>",
            "这些政策没有不满足的条件，但还要您补充信息（回答上方的问题）或自行核实某些条件才能判断。按金额从高到低排列。",
            undeterminedList([...undetermined].sort((a, b) => (b.estimated_benefit || 0) - (a.estimated_benefit || 0))))
    + group("g-verify", "请自行核实 <small>Verify yourself</small>",
            "以上可以申请的政策中，这些条件无法从填写的信息判断，不算作已满足：申请前请对照政策原文自行核实。", withVerify.map(verifyCard))
    + group("g-near", "差一点就能申请 <small>What it takes</small>", "做到下面几步，就能满足这些政策的条件。",
            (r.near_misses || []).map(nearCard));
  renderQuestions();
  $("basics-summary").textContent = basicsSummary();
  $("print-firm").textContent = `企业情况：${basicsSummary()}`;
  showBasics(false);                                  // the form folds away once there is a result
  $("results").hidden = false;
  $("results-heading").focus();
}

// ------------------------------------------------------------------ wiring
setUpBasics();
$("followups").addEventListener("submit", (ev) => { ev.preventDefault(); submitFollowups(); });
$("skip-all").addEventListener("click", () => {
  pendingQuestions().forEach((q) => state.skipped.add(q.field));
  saveToLink();
  renderQuestions();
  $("results-heading").focus();
});
$("print").addEventListener("click", () => window.print());
$("edit-basics").addEventListener("click", () => { showBasics(true); $("f-credit_code").focus(); });
$("share").addEventListener("click", async () => {
  saveToLink();
  const link = location.href;
  let copied = false;
  try { await navigator.clipboard.writeText(link); copied = true; } catch (err) { copied = false; }
  $("share-note").innerHTML = `${copied ? "已复制。" : "请复制此链接："}<a id="share-link" href="${esc(link)}">分享链接</a>`;
});
loadFromLink();
window.addEventListener("beforeprint", () => document.querySelectorAll("#results details").forEach((d) => { d.open = true; }));
