// Builds a SPEC §2 profile from the form, posts it to /v1/match, renders the answer.
"use strict";
const CERTS = ["hnte", "tech_sme", "innovative_sme", "srdi_sme", "little_giant", "single_champion",
  "above_scale", "smart_factory", "digital_workshop", "green_factory", "enterprise_tech_center"];
const form = document.getElementById("profile");
const statusBox = document.getElementById("status");
const results = document.getElementById("results");

document.getElementById("certs").innerHTML = CERTS.map(
  (c) => `<label><input type="checkbox" name="cert" value="${c}"> ${c}</label>`).join("");

function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (ch) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[ch]));
}

function profileFromForm() {
  const profile = {};
  for (const el of form.elements) {
    if (!el.name || el.name === "cert" || el.name === "as_of" || el.type === "submit") continue;
    if (el.dataset.kind === "flag") { if (el.checked) profile.dishonest_record = false; continue; }
    const raw = el.value.trim();
    if (raw === "") continue;                       // empty = unknown, never zero
    if (el.dataset.kind === "int") profile[el.name] = parseInt(raw, 10);
    else if (el.dataset.kind === "float") profile[el.name] = parseFloat(raw);
    else profile[el.name] = raw;
  }
  const certs = [...form.querySelectorAll("input[name=cert]:checked")].map((el) => el.value);
  if (certs.length) profile.certifications = certs;
  return profile;
}

function yuan(v) { return v == null ? "value unknown" : "≈ ¥" + Math.round(v).toLocaleString("zh-CN"); }

function render(result) {
  const cards = result.matches.map((m) => {
    const reasons = (m.criteria || []).filter((c) => c.outcome !== "met" || m.verdict === "eligible")
      .map((c) => `<li class="${c.outcome}">${esc(c.label)}: ${esc(c.outcome)}` +
        (c.observed != null && typeof c.observed !== "object" ? ` (yours: ${esc(c.observed)}, needed ${esc(c.required)})` : "") + "</li>").join("");
    const missing = m.missing_fields && m.missing_fields.length
      ? `<p>To decide, tell us: <b>${m.missing_fields.map(esc).join(", ")}</b></p>` : "";
    return `<article class="card ${esc(m.verdict)}"><h3>${m.rank}. ${esc(m.title)}</h3>
      <p><b>${esc(m.verdict)}</b> · <span class="value">${yuan(m.estimated_benefit)}</span></p>
      ${missing}<details><summary>Reasons / 依据</summary><ul class="criteria">${reasons}</ul>
      <p>${(m.references || []).map(esc).join("<br>")}</p></details></article>`;
  });
  results.innerHTML = cards.length ? cards.join("") : "<p>No eligible or undetermined policy.</p>";
  statusBox.textContent = `${result.matches.length} policies · total eligible value ${yuan(result.total_estimated_benefit)}` +
    ` · catalog ${result.catalog_version} · ranking ${result.model_version}`;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  results.innerHTML = "";
  statusBox.textContent = "Checking…";
  const asOf = form.elements.as_of.value;
  const url = "/v1/match?top_k=20" + (asOf ? "&as_of=" + encodeURIComponent(asOf) : "");
  try {
    const resp = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify(profileFromForm())});
    const body = await resp.json();
    if (!resp.ok) {
      statusBox.innerHTML = `<p class="error">${esc(body.detail)}\n${(body.issues || [])
        .map((i) => esc(i.field) + ": " + esc(i.reason)).join("\n")}</p>`;
      return;
    }
    render(body);
  } catch (err) {
    statusBox.innerHTML = `<p class="error">${esc(err)}</p>`;
  }
});
