// The staff admin page of the procedure knowledge base. Plain modern JavaScript, no build step; it talks to
// the staff API (staff/openapi.yaml) under /api/v1/staff with the session cookie and sends the CSRF token
// on every state-changing request. Server data is put on the page with textContent only.

const API = "/api/v1/staff";
const RANK = { viewer: 0, editor: 1, publisher: 2, admin: 3 };
const ROLE_NAMES = { viewer: "Người xem", editor: "Biên tập viên", publisher: "Người duyệt xuất bản", admin: "Quản trị viên" };
const KIND_NAMES = { "truc-tiep": "Trực tiếp", "truc-tuyen": "Trực tuyến", "buu-chinh": "Dịch vụ bưu chính" };
const STATUS_NAMES = { new: "Mới", changed: "Thay đổi", unchanged: "Không đổi", invalid: "Không hợp lệ" };
const ACTION_NAMES = {
  publish: "Xuất bản", unpublish: "Ngừng xuất bản", restore: "Khôi phục", import: "Nhập dữ liệu", alias: "Thêm cách hỏi",
  catalog: "Nội dung gốc từ danh mục",
};
const FIELD_NAMES = {
  code: "Mã thủ tục", name: "Tên thủ tục", levels: "Cấp thực hiện", field: "Lĩnh vực", kind: "Loại thủ tục",
  decision: "Quyết định công bố", ministry: "Bộ, ngành", agencies: "Cơ quan thực hiện", address: "Địa chỉ tiếp nhận",
  subjects: "Đối tượng thực hiện", channels: "Cách thức, thời hạn, phí", dossier: "Thành phần hồ sơ",
  steps: "Trình tự thực hiện", requirements: "Yêu cầu, điều kiện", result: "Kết quả", legal: "Căn cứ pháp lý",
  related: "Thủ tục liên quan", url: "Đường dẫn", aliases: "Cách hỏi khác", local_notes: "Ghi chú địa phương",
  source: "Nguồn", source_date: "Ngày dữ liệu", attribution: "Cán bộ, đơn vị xuất bản",
};
const CENTRE_FIELDS = {
  name: "Tên trung tâm", address: "Địa chỉ", precision: "Độ chi tiết của địa chỉ", phone: "Điện thoại",
  hours: "Giờ làm việc", note: "Ghi chú",
};
const LEVEL_NAMES = { xa: "Cấp xã", tinh: "Cấp tỉnh", "trung-uong": "Cấp trung ương", khac: "Cơ quan khác" };
const REASON_NAMES = {
  wrong_procedure: "sai thủ tục", missing_papers: "thiếu giấy tờ", wrong_fee: "sai phí", unclear: "khó hiểu", other: "khác",
};
/** SHORT is the longest text the publish confirmation quotes in full (old → new). */
const SHORT = 160;
const CONFIDENCE_NAMES = { high: "Cao", medium: "Trung bình", low: "Thấp" };
const PAGE_SIZE = 50;

const $ = (id) => document.getElementById(id);

/** ApiError is a failed API call: the HTTP status and the server's code, Vietnamese message and details. */
class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `Máy chủ trả lỗi ${status}. Vui lòng thử lại.`);
    this.status = status;
    this.code = e.code || "";
    this.fields = e.fields || [];
    this.current = e.current;
  }
}

const state = {
  session: null, // {user:{username, role}, csrf_token}
  search: { q: "", drafts: false, offset: 0, total: 0 },
  proc: null, // the procedure being edited: {code, detail, record, baseVersion, saved}
  importBatch: null,
  centre: null, // the centre open in the editor: a row of GET /centres
  starters: null, // the starter questions as GET /starters gives them
  lastUser: "", // who was logged in last on this page: a different user does not inherit the open editor
};

// ---- API ----

async function api(method, path, body, opts = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && method !== "HEAD" && state.session && state.session.csrf_token) {
    headers["X-CSRF-Token"] = state.session.csrf_token;
  }
  let payload;
  if (opts.raw) {
    payload = body;
    headers["Content-Type"] = "application/octet-stream";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  let res;
  try {
    res = await fetch(API + path, { method, headers, body: payload, credentials: "same-origin", cache: "no-store" });
  } catch {
    throw new ApiError(0, { error: { code: "network", message: "Không kết nối được máy chủ. Vui lòng kiểm tra mạng và thử lại." } });
  }
  if (res.status === 204) return null;
  let data = null;
  const type = res.headers.get("Content-Type") || "";
  if (type.includes("json")) {
    try { data = await res.json(); } catch { data = null; }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (res.status === 401 && !opts.noAuthRedirect) {
      showLogin(err.message);
    }
    throw err;
  }
  return data;
}

// ---- notices ----

let noticeTimer = 0;
function notify(text, isError = false) {
  const n = $("notice");
  n.textContent = text;
  n.classList.toggle("error", isError);
  n.hidden = false;
  clearTimeout(noticeTimer);
  if (!isError) noticeTimer = setTimeout(() => { n.hidden = true; }, 8000);
}

function fail(err) {
  if (err instanceof ApiError) {
    if (err.status === 401) return; // the login form says it
    if (err.status === 409 && err.code === "conflict" && err.current !== undefined && state.proc) {
      showConflict(err.message);
      return;
    }
    let text = err.message;
    if (err.fields.length) {
      text += " " + err.fields.map((f) => `${FIELD_NAMES[f.field] || f.field}: ${f.reason}`).join("; ");
    }
    notify(text, true);
    return;
  }
  console.error(err);
  notify("Đã có lỗi trên trang. Vui lòng tải lại trang.", true);
}

function clearNotices() {
  $("notice").hidden = true;
  $("conflict").hidden = true;
}

/** busy disables a button while fn runs. */
async function busy(button, fn) {
  if (button) button.disabled = true;
  try {
    return await fn();
  } catch (err) {
    fail(err);
  } finally {
    if (button) button.disabled = false;
  }
}

// ---- session ----

function can(role) {
  return state.session && RANK[state.session.user.role] >= RANK[role];
}

function applyRole() {
  document.body.dataset.role = state.session ? state.session.user.role : "";
  for (const el of document.querySelectorAll("[data-needs]")) {
    el.hidden = !can(el.dataset.needs);
  }
  $("draft-fields").disabled = !can("editor");
}

function showLogin(message) {
  state.session = null;
  $("app-view").hidden = true;
  $("who").hidden = true;
  $("login-view").hidden = false;
  $("conflict").hidden = true;
  const e = $("login-error");
  e.textContent = message || "";
  e.hidden = !message;
  $("login-password").value = "";
  $("login-username").focus();
}

function startSession(s) {
  if (state.lastUser && state.lastUser !== s.user.username) {
    state.proc = null;
    $("editor").hidden = true;
    $("search-results").replaceChildren();
    $("search-status").textContent = "";
    $("import-report").hidden = true;
    state.centre = null;
    $("centre-editor").hidden = true;
  }
  state.lastUser = s.user.username;
  state.session = s;
  $("login-view").hidden = true;
  $("login-error").hidden = true;
  $("app-view").hidden = false;
  $("who").hidden = false;
  $("who-name").textContent = s.user.username;
  $("who-role").textContent = ROLE_NAMES[s.user.role] || s.user.role;
  applyRole();
  showView("procedures");
  $("search-q").focus();
}

async function login(ev) {
  ev.preventDefault();
  const username = $("login-username").value.trim();
  const password = $("login-password").value;
  if (!username || !password) {
    showLogin("Vui lòng nhập tên đăng nhập và mật khẩu.");
    return;
  }
  await busy($("login-submit"), async () => {
    try {
      const s = await api("POST", "/login", { username, password }, { noAuthRedirect: true });
      $("login-password").value = "";
      startSession(s);
    } catch (err) {
      if (err instanceof ApiError) showLogin(err.message);
      else throw err;
    }
  });
}

async function logout() {
  await busy($("logout"), async () => {
    try {
      await api("POST", "/logout");
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
    }
    state.proc = null;
    $("editor").hidden = true;
    $("search-results").replaceChildren();
    showLogin("Bạn đã đăng xuất.");
  });
}

// ---- views ----

function showView(name) {
  clearNotices();
  for (const tab of document.querySelectorAll(".tab")) {
    if (tab.dataset.view === name) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
  }
  for (const v of ["procedures", "imports", "unanswered", "centres", "starters"]) {
    $(v + "-view").hidden = v !== name;
  }
  if (name === "unanswered") loadUnanswered().catch(fail);
  if (name === "imports") loadImports().catch(fail);
  if (name === "centres") loadCentres().catch(fail);
  if (name === "starters") loadStarters().catch(fail);
}

function showPane(name) {
  for (const tab of document.querySelectorAll(".subtab")) {
    if (tab.dataset.pane === name) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
  }
  for (const p of ["edit", "diff", "preview", "versions"]) {
    $("pane-" + p).hidden = p !== name;
  }
  if (name === "diff") loadDiff().catch(fail);
  if (name === "versions") loadVersions().catch(fail);
  if (name === "preview") $("preview-q").focus();
}

// ---- helpers for building DOM from data ----

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function button(text, cls, onClick) {
  const b = el("button", text, cls);
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}

function formatDate(s) {
  if (!s) return "";
  const d = new Date(s);
  if (isNaN(d)) return s;
  return d.toLocaleString("vi-VN", { dateStyle: "short", timeStyle: "short" });
}

function formatMoney(n) {
  return Number(n || 0).toLocaleString("vi-VN") + " đồng";
}

function lines(text) {
  return text.split("\n").map((s) => s.trim()).filter(Boolean);
}

// ---- search ----

async function search(ev, more = false) {
  if (ev) ev.preventDefault();
  const s = state.search;
  if (!more) {
    s.q = $("search-q").value.trim();
    s.drafts = $("search-filter").value === "draft";
    s.offset = 0;
    $("search-results").replaceChildren();
  }
  const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(s.offset) });
  if (s.q) params.set("q", s.q);
  if (s.drafts) params.set("drafts", "true");
  await busy($("search-submit"), async () => {
    $("search-status").textContent = "Đang tìm…";
    const res = await api("GET", "/procedures?" + params);
    s.total = res.total;
    s.offset += res.items.length;
    const list = $("search-results");
    for (const it of res.items) {
      const li = el("li");
      const b = button("", "", () => openProcedure(it.code).catch(fail));
      b.dataset.code = it.code;
      b.append(el("span", it.code, "code"), el("span", it.name, "name"));
      for (const l of it.levels || []) b.append(el("span", LEVEL_NAMES[l] || l, "badge level"));
      if (it.draft_version) b.append(el("span", "Bản nháp", "badge draft"));
      if (!it.published) b.append(el("span", "Chưa xuất bản", "badge off"));
      li.append(b);
      list.append(li);
    }
    $("search-status").textContent = s.total === 0
      ? "Không tìm thấy thủ tục nào."
      : `Hiển thị ${s.offset} trên ${s.total} thủ tục${s.q ? ", phù hợp nhất trước" : ""}.`;
    $("search-more").hidden = s.offset >= s.total;
  });
}

// ---- the editor ----

async function openProcedure(code) {
  clearNotices();
  const detail = await api("GET", "/procedures/" + encodeURIComponent(code));
  await loadDetail(detail);
  for (const b of document.querySelectorAll("#search-results button")) {
    if (b.dataset.code === code) b.setAttribute("aria-current", "true");
    else b.removeAttribute("aria-current");
  }
  $("editor").hidden = false;
  showPane("edit");
  $("editor").scrollIntoView({ block: "start" });
  $("f-name").focus({ preventScroll: true });
}

/** loadDetail puts a procedure in the editor: its draft, else its published record, else (when it was
 * unpublished) the record its latest version kept. */
async function loadDetail(detail) {
  const draft = detail.draft || null;
  let record = draft ? draft.procedure : detail.published;
  if (!record && detail.published_version > 0) {
    const v = await api("GET", `/procedures/${encodeURIComponent(detail.code)}/versions/${detail.published_version}`);
    record = v.procedure;
  }
  state.proc = {
    code: detail.code,
    detail,
    record: structuredClone(record || { code: detail.code, name: "" }),
    baseVersion: draft ? draft.version : 0,
    saved: "",
  };
  fillForm(state.proc.record);
  state.proc.saved = JSON.stringify(collect());
  renderEditorHead();
  clearPreview();
}

function renderEditorHead() {
  const p = state.proc;
  const d = p.detail;
  // Keep the search list's badges in step with the procedure open here.
  for (const b of document.querySelectorAll("#search-results button")) {
    if (b.dataset.code !== p.code) continue;
    const badge = b.querySelector(".badge.draft");
    if (p.baseVersion && !badge) b.append(el("span", "Bản nháp", "badge draft"));
    if (!p.baseVersion && badge) badge.remove();
  }
  $("editor-title").textContent = p.record.name || "Thủ tục mới";
  $("editor-code").textContent = "Mã " + p.code;
  const parts = [];
  if (d.published) parts.push(d.published_version ? `Đang xuất bản: phiên bản ${d.published_version}` : "Đang xuất bản (dữ liệu gốc)");
  else if (d.published_version) parts.push(`Đã ngừng xuất bản (phiên bản ${d.published_version}); có thể khôi phục trong lịch sử phiên bản`);
  else parts.push("Chưa xuất bản");
  parts.push(p.baseVersion ? `Bản nháp số ${p.baseVersion}${d.draft ? " của " + d.draft.updated_by : ""}` : "Chưa có bản nháp");
  $("editor-state").textContent = parts.join(" · ");
  $("publish").disabled = false;
  $("unpublish").hidden = !can("publisher") || !d.published;
  $("draft-discard").hidden = !can("editor") || !p.baseVersion;
}

function setValue(id, v) {
  $(id).value = v === undefined || v === null ? "" : String(v);
}

function fillForm(r) {
  setValue("f-name", r.name);
  setValue("f-field", r.field);
  setValue("f-kind", r.kind);
  setValue("f-agencies", (r.agencies || []).join("\n"));
  setValue("f-address", r.address);
  setValue("f-local-notes", r.local_notes);
  setValue("f-subjects", (r.subjects || []).join("\n"));
  setValue("f-requirements", r.requirements);
  setValue("f-result", r.result);
  setValue("f-aliases", (r.aliases || []).join("\n"));
  setValue("f-related", r.related);
  setValue("f-decision", r.decision);
  setValue("f-url", r.url);
  for (const box of document.querySelectorAll(".f-level")) box.checked = (r.levels || []).includes(box.value);
  setValue("f-note", "");
  $("dossier-rows").replaceChildren(...(r.dossier || []).map(dossierRow));
  $("channel-rows").replaceChildren(...(r.channels || []).map(channelRow));
  $("step-rows").replaceChildren(...(r.steps || []).map(stepRow));
  $("legal-rows").replaceChildren(...(r.legal || []).map(legalRow));
}

function fromTemplate(id) {
  return $(id).content.firstElementChild.cloneNode(true);
}

function withRemove(row, sel = ".remove") {
  row.querySelector(sel).addEventListener("click", () => {
    const list = row.parentElement;
    row.remove();
    const next = list && list.querySelector("input, textarea, select");
    if (next) next.focus();
  });
  return row;
}

function dossierRow(d = {}) {
  const row = withRemove(fromTemplate("tpl-dossier"));
  row.querySelector(".d-name").value = d.name || "";
  row.querySelector(".d-form").value = d.form || "";
  row.querySelector(".d-originals").value = d.originals || 0;
  row.querySelector(".d-copies").value = d.copies || 0;
  row.querySelector(".d-group").value = d.group || "";
  return row;
}

function feeRow(f = {}) {
  const row = withRemove(fromTemplate("tpl-fee"), ".remove-fee");
  row.querySelector(".fee-amount").value = f.amount ?? "";
  row.querySelector(".fee-label").value = f.label || "";
  return row;
}

const channelOriginals = new WeakMap(); // row → the channel it was loaded from (keeps fields the form lacks)

function channelRow(c = {}) {
  const row = withRemove(fromTemplate("tpl-channel"));
  channelOriginals.set(row, c);
  row.querySelector(".c-kind").value = c.kind || "truc-tiep";
  const t = c.time || {};
  row.querySelector(".c-time-value").value = t.value || "";
  row.querySelector(".c-time-unit").value = t.unit || "";
  row.querySelector(".c-time-text").value = t.text || "";
  row.querySelector(".fee-rows").replaceChildren(...(c.fees || []).map(feeRow));
  row.querySelector(".fee-add").addEventListener("click", () => {
    const f = feeRow();
    row.querySelector(".fee-rows").append(f);
    f.querySelector("input").focus();
  });
  row.querySelector(".c-free").checked = !!c.free;
  row.querySelector(".c-fee-text").value = c.fee_text || "";
  row.querySelector(".c-note").value = c.note || "";
  return row;
}

function stepRow(s = "") {
  const row = withRemove(fromTemplate("tpl-step"));
  row.querySelector(".s-text").value = s;
  return row;
}

function legalRow(l = {}) {
  const row = withRemove(fromTemplate("tpl-legal"));
  row.querySelector(".l-number").value = l.number || "";
  row.querySelector(".l-title").value = l.title || "";
  return row;
}

function addRow(listId, row) {
  $(listId).append(row);
  row.querySelector("input, textarea, select").focus();
}

/** collect reads the form into a copy of the loaded record, so fields the form does not show are kept. */
function collect() {
  const r = structuredClone(state.proc.record);
  const text = (id) => $(id).value.trim();
  const put = (key, v) => {
    if (v === "" || (Array.isArray(v) && v.length === 0)) delete r[key];
    else r[key] = v;
  };
  r.code = state.proc.code;
  r.name = text("f-name");
  put("field", text("f-field"));
  put("kind", text("f-kind"));
  put("agencies", lines($("f-agencies").value));
  put("address", text("f-address"));
  put("local_notes", text("f-local-notes"));
  put("subjects", lines($("f-subjects").value));
  put("requirements", text("f-requirements"));
  put("result", text("f-result"));
  put("aliases", lines($("f-aliases").value));
  put("related", text("f-related"));
  put("decision", text("f-decision"));
  put("url", text("f-url"));
  // Levels keep the record's order (and any value the form does not know); newly ticked ones follow.
  const boxes = [...document.querySelectorAll(".f-level")];
  const known = new Set(boxes.map((b) => b.value));
  const ticked = boxes.filter((b) => b.checked).map((b) => b.value);
  const levels = (r.levels || []).filter((l) => !known.has(l) || ticked.includes(l));
  for (const l of ticked) if (!levels.includes(l)) levels.push(l);
  put("levels", levels);
  const q = (row, sel) => row.querySelector(sel);
  const int = (v) => Math.max(0, Math.trunc(Number(v) || 0));

  put("dossier", [...$("dossier-rows").children].map((row) => {
    const d = { name: q(row, ".d-name").value.trim(), originals: int(q(row, ".d-originals").value), copies: int(q(row, ".d-copies").value) };
    const form = q(row, ".d-form").value.trim();
    const group = q(row, ".d-group").value.trim();
    if (form) d.form = form;
    if (group) d.group = group;
    return d;
  }).filter((d) => d.name || d.form || d.group));

  put("channels", [...$("channel-rows").children].map((row) => {
    const orig = channelOriginals.get(row) || {};
    const c = { ...orig, kind: q(row, ".c-kind").value };
    const time = { value: Number(q(row, ".c-time-value").value) || 0 };
    const unit = q(row, ".c-time-unit").value.trim();
    const ttext = q(row, ".c-time-text").value.trim();
    if (unit) time.unit = unit;
    if (ttext) time.text = ttext;
    c.time = time;
    const fees = [...q(row, ".fee-rows").children].map((f) => {
      const fee = { amount: int(q(f, ".fee-amount").value) };
      const label = q(f, ".fee-label").value.trim();
      if (label) fee.label = label;
      return { fee, empty: q(f, ".fee-amount").value.trim() === "" && !label };
    }).filter((x) => !x.empty).map((x) => x.fee);
    if (fees.length) c.fees = fees; else delete c.fees;
    c.free = q(row, ".c-free").checked;
    if (!c.free) delete c.free;
    if (c.fees || c.free) delete c.fee_na;
    const feeText = q(row, ".c-fee-text").value.trim();
    const note = q(row, ".c-note").value.trim();
    if (feeText) c.fee_text = feeText; else delete c.fee_text;
    if (note) c.note = note; else delete c.note;
    return c;
  }));

  put("steps", [...$("step-rows").children].map((row) => q(row, ".s-text").value.trim()).filter(Boolean));

  put("legal", [...$("legal-rows").children].map((row) => {
    const l = { title: q(row, ".l-title").value.trim() };
    const number = q(row, ".l-number").value.trim();
    if (number) l.number = number;
    return l;
  }).filter((l) => l.title || l.number));
  return r;
}

function dirty() {
  return state.proc && can("editor") && JSON.stringify(collect()) !== state.proc.saved;
}

/** saveDraft stores the form as the draft, based on the version it was loaded from. */
async function saveDraft() {
  const p = state.proc;
  const record = collect();
  if (!record.name) {
    notify("Tên thủ tục không được để trống.", true);
    $("f-name").focus();
    return false;
  }
  const draft = await api("PUT", `/procedures/${encodeURIComponent(p.code)}/draft`, {
    base_version: p.baseVersion,
    procedure: record,
  });
  p.record = structuredClone(draft.procedure);
  p.baseVersion = draft.version;
  p.detail.draft = draft;
  fillForm(p.record);
  p.saved = JSON.stringify(collect());
  renderEditorHead();
  notify(feeNotesDropped(record, draft.procedure)
    ? `Đã lưu bản nháp (số ${draft.version}). Vì số tiền đã đổi, ô phí nguyên văn và các câu về phí trong mô tả của Cổng đã được bỏ để người dân chỉ thấy mức mới.`
    : `Đã lưu bản nháp (số ${draft.version}).`);
  return true;
}

/** feeNotesDropped reports whether the server dropped the portal's fee notes of a channel whose fee changed. */
function feeNotesDropped(sent, saved) {
  const a = sent.channels || [], b = saved.channels || [];
  return a.length === b.length && a.some((c, i) => (c.note || "") !== (b[i].note || "") || (c.fee_text || "") !== (b[i].fee_text || ""));
}

/** ensureSaved saves the form first when it has unsaved changes; it reports whether a draft now exists. */
async function ensureSaved() {
  if (dirty()) return saveDraft();
  return true;
}

async function onSave(ev) {
  ev.preventDefault();
  clearNotices();
  await busy($("draft-save"), saveDraft);
}

async function onDiscard(ev) {
  const b = ev.currentTarget;
  if (!confirmTwice(b, "Bấm lần nữa để bỏ bản nháp")) return;
  clearNotices();
  const p = state.proc;
  await busy(b, async () => {
    await api("DELETE", `/procedures/${encodeURIComponent(p.code)}/draft?base_version=${p.baseVersion}`);
    notify("Đã bỏ bản nháp.");
    await reloadProcedure();
  });
}

/** onPublish saves the form when it has changes, then asks for confirmation with a summary of the change. */
async function onPublish() {
  clearNotices();
  const p = state.proc;
  await busy($("publish"), async () => {
    if (!(await ensureSaved())) return;
    if (!p.baseVersion) {
      notify("Chưa có bản nháp nào để xuất bản.", true);
      return;
    }
    const diff = await api("GET", `/procedures/${encodeURIComponent(p.code)}/diff`);
    $("publish-dialog-lead").textContent = diff.changes.length
      ? `Thủ tục «${p.record.name}» (mã ${p.code}), bản nháp số ${p.baseVersion}: người dân sẽ thấy ${diff.changes.length} mục thay đổi.`
      : `Thủ tục «${p.record.name}» (mã ${p.code}): bản nháp giống hệt bản đang xuất bản.`;
    $("publish-summary").replaceChildren(...diff.changes.map(summaryItem));
    $("publish-dialog").dataset.version = String(p.baseVersion);
    $("publish-dialog").showModal();
    $("publish-confirm").focus();
  });
}

/** summaryItem says what one change does: old → new for short fields, how many entries otherwise. */
function summaryItem(c) {
  const li = el("li");
  li.dataset.field = c.field;
  li.append(el("strong", (c.label || FIELD_NAMES[c.field] || c.field) + ": "));
  if (c.field === "channels") {
    const lines = channelChanges(c.old || [], c.new || []);
    if (lines.length) {
      for (const [label, a, b] of lines) li.append(el("span", label + " "), b === undefined ? el("span", a) : oldNew(a, b), el("br"));
      return li;
    }
  }
  const a = describe(c.field, c.old), b = describe(c.field, c.new);
  if (Array.isArray(c.old) || Array.isArray(c.new)) {
    const n = (v) => (Array.isArray(v) ? v.length : 0);
    li.append(el("span", `${n(c.old)} → ${n(c.new)} mục (xem «Khác biệt»)`));
  } else if (a.length <= SHORT && b.length <= SHORT) {
    li.append(oldNew(a, b));
  } else {
    li.append(el("span", c.op === "added" ? "thêm mới (xem «Khác biệt»)" : c.op === "removed" ? "bỏ" : "sửa nội dung (xem «Khác biệt»)"));
  }
  return li;
}

function oldNew(a, b) {
  const span = el("span", null, "oldnew");
  span.append(el("del", a), el("span", " → ", "arrow"), el("ins", b));
  return span;
}

/** channelChanges lists, per channel kind, the fee and time citizens read before and after ([label, old, new]),
 * and whether the description changed ([label, text]). */
function channelChanges(olds, news) {
  const byKind = (cs) => new Map(cs.map((c) => [c.kind, c]));
  const a = byKind(olds), b = byKind(news);
  const out = [];
  for (const kind of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(kind), y = b.get(kind);
    const label = `${KIND_NAMES[kind] || kind} —`;
    if (!x || !y) {
      out.push([label, x ? channelLine(x) : "(không có)", y ? channelLine(y) : "(không có)"]);
      continue;
    }
    if (feeLine(x) !== feeLine(y)) {
      // The same items with other amounts: the amounts alone say it.
      const labels = (c) => (c.fees || []).map((f) => f.label || "").join("|");
      const named = labels(x) !== labels(y);
      out.push([`${label} phí:`, feeLine(x, named), feeLine(y, named)]);
    }
    if (timeLine(x) !== timeLine(y)) out.push([`${label} thời hạn:`, timeLine(x), timeLine(y)]);
    if ((x.note || "") !== (y.note || "") || (x.fee_text || "") !== (y.fee_text || "")) out.push([`${label} mô tả:`, "đã sửa (xem «Khác biệt»)"]);
  }
  return out;
}

function feeLine(c, named = true) {
  if (c.fees && c.fees.length) return c.fees.map((f) => `${named && f.label ? f.label + ": " : ""}${formatMoney(f.amount)}`).join(", ");
  return c.free ? "miễn phí" : "không ghi phí";
}

function timeLine(c) {
  const t = c.time || {};
  return t.value ? `${t.value} ${t.unit || ""}`.trim() : (t.text || "chưa rõ thời hạn");
}

function channelLine(c) {
  return `${timeLine(c)}; ${feeLine(c)}`;
}

async function onPublishConfirm() {
  const dialog = $("publish-dialog");
  const p = state.proc;
  const version = Number(dialog.dataset.version);
  await busy($("publish-confirm"), async () => {
    try {
      const v = await api("POST", `/procedures/${encodeURIComponent(p.code)}/publish`, {
        base_version: version,
        note: $("f-note").value.trim(),
      });
      dialog.close();
      await reloadProcedure();
      notify(`Đã xuất bản phiên bản ${v.version}. Trợ lý dùng nội dung mới ngay.`);
      $("publish").focus();
    } catch (err) {
      dialog.close();
      throw err;
    }
  });
}

function onPreviewOpen() {
  showPane("preview");
  if ($("preview-q").value.trim()) $("preview-form").requestSubmit();
}

async function onUnpublish(ev) {
  const b = ev.currentTarget;
  if (!confirmTwice(b, "Bấm lần nữa để ngừng xuất bản")) return;
  clearNotices();
  const p = state.proc;
  await busy(b, async () => {
    const v = await api("POST", `/procedures/${encodeURIComponent(p.code)}/unpublish`, { note: $("f-note").value.trim() });
    await reloadProcedure();
    notify(`Đã ngừng xuất bản (phiên bản ${v.version}). Có thể khôi phục trong lịch sử phiên bản.`);
  });
}

/** confirmTwice turns a dangerous button into its own confirmation for a few seconds. */
function confirmTwice(b, prompt) {
  if (b.dataset.armed === "1") {
    b.dataset.armed = "";
    b.textContent = b.dataset.label;
    return true;
  }
  b.dataset.label = b.textContent;
  b.dataset.armed = "1";
  b.textContent = prompt;
  setTimeout(() => {
    if (b.dataset.armed === "1") {
      b.dataset.armed = "";
      b.textContent = b.dataset.label;
    }
  }, 5000);
  return false;
}

async function reloadProcedure() {
  const detail = await api("GET", "/procedures/" + encodeURIComponent(state.proc.code));
  await loadDetail(detail);
  if (!$("pane-versions").hidden) await loadVersions();
  if (!$("pane-diff").hidden) await loadDiff();
}

function showConflict(message) {
  $("conflict-text").textContent = (message || "Bản nháp đã được người khác thay đổi.") +
    " Thay đổi của bạn chưa được lưu. Tải lại để xem bản mới nhất (thay đổi chưa lưu trên trang này sẽ mất).";
  $("conflict").hidden = false;
  $("conflict-reload").focus();
}

// ---- preview ----

function clearPreview() {
  for (const id of ["preview-answer", "preview-full", "preview-options", "preview-warning"]) $(id).textContent = "";
  $("preview-options").hidden = true;
  $("preview-warning").hidden = true;
}

async function onPreview(ev) {
  ev.preventDefault();
  clearNotices();
  const question = $("preview-q").value.trim();
  if (!question) {
    notify("Vui lòng nhập câu hỏi thử.", true);
    return;
  }
  const p = state.proc;
  await busy($("preview-submit"), async () => {
    if (!(await ensureSaved())) return;
    clearPreview();
    $("preview-answer").textContent = "Đang soạn câu trả lời…";
    try {
      const res = await api("POST", `/procedures/${encodeURIComponent(p.code)}/preview`, { question });
      $("preview-answer").textContent = res.text;
      $("preview-answer").dataset.from = res.from;
      $("preview-full").textContent = res.full;
      if (res.options && res.options.length) {
        $("preview-options").textContent = "Trợ lý chưa chắc chắn nên kèm các nút chọn thủ tục khác: " +
          res.options.map((o) => `${o.label || o.name} (${o.code})`).join("; ") + ".";
        $("preview-options").hidden = false;
      }
      if (res.answered !== p.code) {
        $("preview-warning").textContent = res.answered
          ? `Lưu ý: với câu hỏi này, trợ lý hiện trả lời bằng thủ tục khác (mã ${res.answered}), nên người dân chưa thấy câu trả lời dưới đây. Hãy thêm cách hỏi khác nếu cần.`
          : "Lưu ý: với câu hỏi này, trợ lý hiện hỏi lại người dân muốn hỏi thủ tục nào (hoặc chưa tìm được), nên người dân chưa thấy ngay câu trả lời dưới đây.";
        $("preview-warning").hidden = false;
      }
    } catch (err) {
      clearPreview();
      throw err;
    }
  });
}

// ---- diff ----

function describe(field, v) {
  if (v === undefined || v === null || v === "") return "(trống)";
  switch (field) {
    case "dossier":
      return v.map((d) => `• ${d.name}${d.form ? ` [${d.form}]` : ""} — ${d.originals || 0} bản chính, ${d.copies || 0} bản sao${d.group ? ` (${d.group})` : ""}`).join("\n");
    case "channels":
      return v.map((c) => {
        const fee = c.fees && c.fees.length ? feeLine(c) : c.free ? "miễn phí" : c.fee_text || "không ghi phí";
        return `• ${KIND_NAMES[c.kind] || c.kind}: ${timeLine(c)}; ${fee}${c.note ? "\n  " + c.note : ""}`;
      }).join("\n");
    case "legal":
      return v.map((l) => `• ${l.number ? l.number + " — " : ""}${l.title}`).join("\n");
  }
  if (Array.isArray(v)) return v.map((x) => (typeof x === "string" ? "• " + x : JSON.stringify(x))).join("\n");
  if (typeof v === "object") return JSON.stringify(v, null, 1);
  return String(v);
}

async function loadDiff() {
  const p = state.proc;
  const body = $("diff-table").tBodies[0];
  body.replaceChildren();
  if (!p.baseVersion) {
    $("diff-status").textContent = "Chưa có bản nháp: nội dung đang xuất bản không thay đổi.";
    return;
  }
  if (dirty()) {
    $("diff-status").textContent = "Có thay đổi chưa lưu: khác biệt dưới đây là của bản nháp đã lưu.";
  } else {
    $("diff-status").textContent = "";
  }
  const diff = await api("GET", `/procedures/${encodeURIComponent(p.code)}/diff`);
  if (!diff.changes.length) {
    $("diff-status").textContent = "Bản nháp giống hệt bản đang xuất bản.";
    return;
  }
  for (const c of diff.changes) {
    const tr = el("tr");
    const [oldCell, newCell] = highlight(describe(c.field, c.old), describe(c.field, c.new));
    tr.append(el("th", c.label || FIELD_NAMES[c.field] || c.field), oldCell, newCell);
    tr.firstChild.scope = "row";
    tr.dataset.field = c.field;
    body.append(tr);
  }
}

/** MAX_CELLS bounds the word-diff table (old words × new words); beyond it, lines are compared instead. */
const MAX_CELLS = 4e6;

/** highlight returns the old and new cells of a diff row, the removed words marked <del> and the added <ins>. */
function highlight(a, b) {
  let x = a.split(/(\s+)/), y = b.split(/(\s+)/);
  if (x.length * y.length > MAX_CELLS) {
    x = a.split(/(\n)/);
    y = b.split(/(\n)/);
  }
  const ops = diffTokens(x, y);
  const oldCell = el("td", null, "old"), newCell = el("td", null, "new");
  for (const [op, text] of ops) {
    if (op === "=") {
      oldCell.append(text);
      newCell.append(text);
    } else if (op === "-") {
      oldCell.append(/^\s+$/.test(text) ? text : el("del", text));
    } else {
      newCell.append(/^\s+$/.test(text) ? text : el("ins", text));
    }
  }
  if (x.length * y.length > MAX_CELLS) newCell.prepend(el("span", "(so sánh theo dòng) ", "muted"));
  return [oldCell, newCell];
}

/** diffTokens is the longest-common-subsequence diff of two token lists: ["=", t], ["-", t] or ["+", t]. */
function diffTokens(x, y) {
  let pre = 0;
  while (pre < x.length && pre < y.length && x[pre] === y[pre]) pre++;
  let suf = 0;
  while (suf < x.length - pre && suf < y.length - pre && x[x.length - 1 - suf] === y[y.length - 1 - suf]) suf++;
  const a = x.slice(pre, x.length - suf), b = y.slice(pre, y.length - suf);
  const out = x.slice(0, pre).map((t) => ["=", t]);
  if (a.length * b.length > MAX_CELLS) {
    for (const t of a) out.push(["-", t]);
    for (const t of b) out.push(["+", t]);
  } else {
    const n = a.length, m = b.length;
    const L = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        L[i][j] = a[i] === b[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
      }
    }
    let i = 0, j = 0;
    while (i < n && j < m) {
      if (a[i] === b[j]) { out.push(["=", a[i]]); i++; j++; }
      else if (L[i + 1][j] >= L[i][j + 1]) out.push(["-", a[i++]]);
      else out.push(["+", b[j++]]);
    }
    while (i < n) out.push(["-", a[i++]]);
    while (j < m) out.push(["+", b[j++]]);
  }
  for (const t of x.slice(x.length - suf)) out.push(["=", t]);
  return out;
}

// ---- versions ----

async function loadVersions() {
  const p = state.proc;
  const res = await api("GET", `/procedures/${encodeURIComponent(p.code)}/versions`);
  const body = $("versions-table").tBodies[0];
  body.replaceChildren();
  if (!res.items.length) {
    const tr = el("tr");
    const td = el("td", "Chưa có phiên bản nào do cán bộ xuất bản; nội dung hiện tại là dữ liệu gốc.");
    td.colSpan = 5;
    tr.append(td);
    body.append(tr);
    return;
  }
  const current = p.detail.published_version;
  for (const v of res.items) {
    const tr = el("tr");
    tr.dataset.version = v.version;
    tr.dataset.action = v.action;
    // A catalog version is the record as the catalog ingest left it, kept when staff first published.
    const original = v.action === "catalog";
    const note = original
      ? "Nội dung gốc từ danh mục (trước lần xuất bản đầu tiên của cán bộ)"
      : [ACTION_NAMES[v.action] || v.action, v.note].filter(Boolean).join(": ");
    const actions = el("td");
    if (v.version === current) {
      actions.append(v.action === "unpublish"
        ? el("span", "Hiện tại: ngừng xuất bản", "badge off")
        : el("span", "Đang xuất bản", "badge new"));
    } else if (can("publisher")) {
      const b = button(original ? "Khôi phục bản gốc" : "Khôi phục", "secondary restore", () => restore(v.version, b, original));
      b.setAttribute("aria-label", original ? `Khôi phục nội dung gốc từ danh mục (phiên bản ${v.version})` : `Khôi phục phiên bản ${v.version}`);
      actions.append(b);
    }
    const noteCell = el("td", note);
    if (original) noteCell.prepend(el("span", "Gốc", "badge"), " ");
    tr.append(el("td", v.version), el("td", formatDate(v.at)), el("td", v.by), noteCell, actions);
    body.append(tr);
  }
}

async function restore(version, b, original) {
  clearNotices();
  const p = state.proc;
  await busy(b, async () => {
    const v = await api("POST", `/procedures/${encodeURIComponent(p.code)}/versions/${version}/restore`, {
      note: original ? `Khôi phục nội dung gốc từ danh mục (phiên bản ${version})` : `Khôi phục phiên bản ${version}`,
    });
    await reloadProcedure();
    await loadVersions();
    notify(`Đã khôi phục nội dung phiên bản ${version}${original ? ", nội dung gốc từ danh mục" : ""} (thành phiên bản ${v.version}).`);
  });
}

// ---- new procedure ----

async function newProcedure(ev) {
  ev.preventDefault();
  clearNotices();
  const code = $("new-code").value.trim();
  if (!/^[0-9A-Za-z][0-9A-Za-z.\-]{0,39}$/.test(code)) {
    notify("Mã thủ tục chỉ gồm chữ số, chữ cái, dấu chấm hoặc gạch ngang (tối đa 40 ký tự).", true);
    return;
  }
  try {
    await openProcedure(code);
    notify(`Thủ tục ${code} đã có; đang mở để sửa.`);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) throw err;
    clearNotices();
    await loadDetail({ code, published: null, published_version: 0, draft: null });
    $("editor").hidden = false;
    showPane("edit");
    $("f-name").focus();
  }
}

// ---- imports ----

async function loadImports() {
  if (!state.session) return;
  const list = $("import-batches");
  const res = await api("GET", "/imports?limit=20");
  list.replaceChildren();
  for (const b of res.items) {
    const li = el("li");
    const c = b.counts;
    const open = button("", "", () => showImport(b.id).catch(fail));
    open.append(
      el("span", `#${b.id} ${b.name}`, "code"),
      el("span", `${formatDate(b.at)} · ${b.by} · ${c.new} mới, ${c.changed} thay đổi, ${c.unchanged} không đổi, ${c.invalid} không hợp lệ`),
      el("span", b.status === "published" ? "Đã xuất bản" : "Chưa xuất bản", "badge " + (b.status === "published" ? "new" : "draft")),
    );
    li.append(open);
    list.append(li);
  }
  $("import-batches-empty").hidden = res.items.length > 0;
}

async function onImport(ev) {
  ev.preventDefault();
  clearNotices();
  const file = $("import-file").files[0];
  if (!file) {
    notify("Vui lòng chọn tệp cần nhập.", true);
    return;
  }
  if (file.size > 200 * 1024 * 1024) {
    notify("Tệp quá lớn: tối đa 200 MiB.", true);
    return;
  }
  await busy($("import-submit"), async () => {
    $("import-summary").textContent = "Đang tải lên và kiểm tra…";
    const batch = await api("POST", "/imports?name=" + encodeURIComponent(file.name), file, { raw: true });
    renderImport(batch);
    await loadImports();
  });
}

async function showImport(id) {
  clearNotices();
  renderImport(await api("GET", "/imports/" + id));
}

function renderImport(b) {
  state.importBatch = b;
  const c = b.counts;
  $("import-report").hidden = false;
  $("import-summary").textContent =
    `Lô #${b.id} (${b.name}): ${c.total} bản ghi — ${c.new} mới, ${c.changed} thay đổi, ${c.unchanged} không đổi, ${c.invalid} không hợp lệ.` +
    (b.status === "published" ? ` Đã xuất bản ${b.published ?? ""} bản ghi${b.published_by ? " bởi " + b.published_by : ""}.` : " Chưa xuất bản.");
  renderImportRows();
  const pub = $("import-publish");
  pub.hidden = !can("publisher") || b.status === "published";
  pub.disabled = c.new + c.changed === 0;
}

function renderImportRows() {
  const b = state.importBatch;
  const only = $("import-filter").value;
  const body = $("import-table").tBodies[0];
  const rows = [];
  for (const r of b.records || []) {
    if (only && r.status !== only) continue;
    const tr = el("tr");
    tr.dataset.status = r.status;
    const st = el("td");
    st.append(el("span", STATUS_NAMES[r.status] || r.status, "badge " + r.status));
    tr.append(el("td", r.file || ""), el("td", r.code || ""), el("td", r.name || ""), st, el("td", r.reason || ""));
    rows.push(tr);
  }
  body.replaceChildren(...rows);
}

async function onImportPublish() {
  clearNotices();
  const b = state.importBatch;
  await busy($("import-publish"), async () => {
    const s = await api("POST", `/imports/${b.id}/publish`, { note: "" });
    await showImport(s.id);
    await loadImports();
    notify(`Đã xuất bản lô #${s.id}: ${s.published ?? 0} bản ghi.`);
  });
}

// ---- the unanswered queue ----

async function loadUnanswered(ev) {
  if (ev) ev.preventDefault();
  const by = $("unanswered-group").value;
  const status = $("unanswered-handled").checked ? "all" : "open";
  const params = new URLSearchParams({ by, status, limit: "200" });
  $("unanswered-status").textContent = "Đang tải…";
  const res = await api("GET", "/unanswered?" + params);
  const body = $("unanswered-table").tBodies[0];
  body.replaceChildren(...res.groups.map((g) => unansweredRow(by, g)));
  $("unanswered-status").textContent = res.groups.length
    ? `${res.groups.length} nhóm câu hỏi.`
    : "Không có câu hỏi nào cần xử lý.";
  await loadSynonyms();
}

function unansweredRow(by, g) {
  const tr = el("tr");
  const what = el("td");
  if (by === "question") {
    what.append(el("div", g.question || g.key, "q"));
    if (g.codes && g.codes.length) {
      const cited = el("ul", null, "cited");
      cited.setAttribute("aria-label", "Thủ tục trợ lý đã trích");
      g.codes.forEach((code, i) => cited.append(el("li", `${code} ${(g.names && g.names[i]) || "(không còn trong danh mục)"}`)));
      what.append(el("div", "Trợ lý đã trích:", "muted"), cited);
    }
  } else {
    what.append(el("div", g.code ? `${g.code} ${g.name || ""}` : "(không trích thủ tục nào)", "q"));
    if (g.examples && g.examples.length) {
      const ul = el("ul");
      for (const ex of g.examples) ul.append(el("li", ex));
      what.append(ul);
    }
  }
  const why = [];
  if (g.abstained) why.push(`${g.abstained} không trả lời`);
  if (g.low_confidence) why.push(`${g.low_confidence} độ tin cậy thấp`);
  if (g.thumbs_down) why.push(`${g.thumbs_down} không hài lòng` + reasonsText(g.reasons));
  if (why.length) what.append(el("div", why.join(" · "), "muted why"));
  if (g.handled_at) what.append(el("div", `Đã xử lý ${formatDate(g.handled_at)} bởi ${g.handled_by || ""}`, "muted"));
  const answers = g.answers || [];
  if (answers.length) {
    what.append(answerBlock(answers[0], by));
    if (answers.length > 1) {
      const more = el("details", null, "more-answers");
      more.append(el("summary", `Các câu trả lời khác (${answers.length - 1})`));
      for (const a of answers.slice(1)) more.append(answerBlock(a, by));
      what.append(more);
    }
  }
  const actions = el("td");
  const box = el("div", null, "actions");
  actions.append(box);
  if (by === "procedure" && g.code) {
    box.append(button("Mở thủ tục", "secondary", () => {
      showView("procedures");
      openProcedure(g.code).catch(fail);
    }));
  }
  if (can("editor")) {
    box.append(button("Đánh dấu đã xử lý", "secondary", async (ev) => {
      const b = ev.currentTarget;
      await busy(b, async () => {
        await api("POST", "/unanswered/handled", { by, key: g.key });
        notify("Đã đánh dấu đã xử lý.");
        await loadUnanswered();
      });
    }));
    if (by === "question") {
      actions.append(linkForm(g), synonymForm());
    }
  }
  const labelled = (text, label) => {
    const td = el("td", text, "stat");
    td.dataset.label = label;
    return td;
  };
  tr.append(what, labelled(g.count, "Số lần"), labelled(formatDate(g.first_at), "Lần đầu"), labelled(formatDate(g.last_at), "Lần cuối"), actions);
  return tr;
}

/** reasonsText names the reasons citizens gave with their 👎: " (sai phí: 1, sai thủ tục: 2)". */
function reasonsText(reasons) {
  const parts = Object.entries(reasons || {}).map(([r, n]) => `${REASON_NAMES[r] || r}: ${n}`);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

/** answerBlock is one answer a citizen got, as stored (personal data replaced by placeholders). */
function answerBlock(a, by) {
  const box = el("div", null, "queue-answer");
  const head = el("div", null, "answer-head");
  head.append(el("span", `Trợ lý trả lời lúc ${formatDate(a.at)}`));
  if (a.feedback < 0) head.append(el("span", "👎 " + (a.reason ? REASON_NAMES[a.reason] || a.reason : "không nêu lý do"), "badge off reason"));
  else if (a.abstained) head.append(el("span", "Không trả lời được", "badge"));
  if (by === "procedure" && a.question) box.append(el("div", "Câu hỏi: " + a.question, "asked"));
  box.append(head, el("div", a.plain, "answer"));
  return box;
}

let formSeq = 0;

function smallForm(cls, summary, fields, submitText, onSubmit) {
  const d = el("details", null, cls);
  d.append(el("summary", summary));
  const f = el("form", null, "mini");
  const inputs = fields.map(([label, value, max, name]) => {
    const id = "mini-" + ++formSeq;
    const l = el("label", label);
    l.htmlFor = id;
    const i = el("input");
    i.id = id;
    i.value = value || "";
    i.maxLength = max;
    i.className = name;
    f.append(l, i);
    return i;
  });
  const b = el("button", submitText);
  b.type = "submit";
  f.append(b);
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearNotices();
    await busy(b, () => onSubmit(...inputs.map((i) => i.value.trim())));
  });
  d.append(f);
  return d;
}

function linkForm(g) {
  return smallForm("link", "Gắn với thủ tục", [["Câu hỏi", g.question || g.key, 500, "question"], ["Mã thủ tục", (g.codes || [])[0] || "", 40, "code"]], "Gắn", async (question, code) => {
    if (!question || !code) {
      notify("Vui lòng nhập câu hỏi và mã thủ tục.", true);
      return;
    }
    const v = await api("POST", "/unanswered/link", { question, code });
    notify(`Đã thêm câu hỏi làm cách hỏi khác của thủ tục ${code} (phiên bản ${v.version}).`);
    await loadUnanswered();
  });
}

function synonymForm() {
  return smallForm("synonym", "Thêm từ đồng nghĩa", [["Cụm từ người dân dùng", "", 100, "phrase"], ["Nghĩa là (cách gọi trong danh mục)", "", 200, "to"]], "Thêm", async (phrase, to) => {
    if (!phrase) {
      notify("Vui lòng nhập cụm từ.", true);
      return;
    }
    await api("POST", "/synonyms", { phrase, to });
    notify(`Đã thêm từ đồng nghĩa “${phrase}”.`);
    await loadSynonyms();
  });
}

async function loadSynonyms() {
  const res = await api("GET", "/synonyms");
  const list = $("synonyms");
  list.replaceChildren();
  for (const s of res.items) {
    const li = el("li");
    li.append(el("span", `“${s.phrase}” → “${s.to || "(bỏ qua)"}”`), el("span", ` ${s.by}, ${formatDate(s.at)} `, "muted"));
    if (can("editor")) {
      const b = button("Xóa", "secondary", async () => {
        await busy(b, async () => {
          await api("DELETE", "/synonyms/" + s.id);
          await loadSynonyms();
        });
      });
      b.setAttribute("aria-label", `Xóa từ đồng nghĩa ${s.phrase}`);
      li.append(b);
    }
    list.append(li);
  }
  $("synonyms-empty").hidden = res.items.length > 0;
}

// ---- service centres ----

async function loadCentres(ev) {
  if (ev) ev.preventDefault();
  const params = new URLSearchParams();
  const q = $("centres-q").value.trim();
  if (q) params.set("q", q);
  if ($("centres-corrected").checked) params.set("corrected", "true");
  $("centres-status").textContent = "Đang tải…";
  const res = await api("GET", "/centres?" + params);
  $("centres-table").tBodies[0].replaceChildren(...res.items.map(centreRow));
  $("centres-status").textContent = res.total ? `${res.total} trung tâm.` : "Không có trung tâm nào.";
}

/** centreDetails is a centre's phone and hours on one line. */
function centreDetails(c) {
  const bits = [];
  if (c.phone) bits.push("ĐT " + c.phone);
  if (c.hours) bits.push("Giờ làm việc: " + c.hours);
  return bits.join(" · ");
}

function confidenceText(c) {
  return (CONFIDENCE_NAMES[c.confidence] || c.confidence) + (c.conflict ? " (có nguồn ghi khác)" : "");
}

function correctionText(row) {
  const k = row.correction;
  if (!k) return "Dữ liệu gốc (chưa được cán bộ sửa)";
  return `Cán bộ ${k.by} sửa lúc ${formatDate(k.at)}` + (k.note ? ` — ${k.note}` : "");
}

function centreRow(row) {
  const tr = el("tr");
  tr.dataset.unit = row.unit_code;
  const what = el("td");
  what.append(el("div", row.centre.address, "q"));
  const details = centreDetails(row.centre);
  if (details) what.append(el("div", details));
  what.append(el("div", correctionText(row), "muted"));
  const actions = el("td");
  const b = button(can("publisher") ? "Sửa" : "Xem", "secondary", () => openCentre(row));
  b.setAttribute("aria-label", `${can("publisher") ? "Sửa" : "Xem"} trung tâm ${row.unit_name}`);
  actions.append(b);
  tr.append(el("td", row.unit_name), what, el("td", confidenceText(row.centre)), actions);
  return tr;
}

function openCentre(row) {
  state.centre = row;
  const c = row.centre;
  $("centre-title").textContent = `${row.unit_name}: ${c.name}`;
  $("centre-state").textContent = `${correctionText(row)}. Độ tin cậy: ${confidenceText(c)}.`;
  const seed = row.seed;
  $("centre-seed").textContent = "Dữ liệu gốc: " + [seed.address, centreDetails(seed)].filter(Boolean).join(" · ");
  $("centre-name").value = c.name || "";
  $("centre-address").value = c.address || "";
  $("centre-precision").value = c.precision || "";
  $("centre-phone").value = c.phone || "";
  $("centre-hours").value = c.hours || "";
  $("centre-note").value = (row.correction && row.correction.note) || "";
  $("centre-fields").disabled = !can("publisher");
  $("centre-revert").hidden = !row.correction || !can("publisher");
  $("centre-editor").hidden = false;
  (can("publisher") ? $("centre-address") : $("centre-close")).focus();
}

/** centreError shows a refused correction: a conflict reloads the current one, invalid fields are named. */
function centreError(err) {
  if (err instanceof ApiError && err.status === 409 && err.current) {
    openCentre(err.current);
    notify("Thông tin trung tâm vừa được người khác sửa; trang đã tải bản hiện tại. Hãy kiểm tra rồi lưu lại.", true);
    return true;
  }
  if (err instanceof ApiError && err.fields.length) {
    notify(err.message + " " + err.fields.map((f) => `${CENTRE_FIELDS[f.field] || f.field}: ${f.reason}`).join("; "), true);
    return true;
  }
  return false;
}

async function onCentreSave(ev) {
  ev.preventDefault();
  clearNotices();
  const row = state.centre;
  if (!row) return;
  const body = {
    base_version: row.correction ? row.correction.version : 0,
    name: $("centre-name").value.trim(),
    address: $("centre-address").value.trim(),
    precision: $("centre-precision").value,
    phone: $("centre-phone").value.trim(),
    hours: $("centre-hours").value.trim(),
    note: $("centre-note").value.trim(),
  };
  if (!body.address) {
    notify("Vui lòng nhập địa chỉ của trung tâm.", true);
    $("centre-address").focus();
    return;
  }
  await busy($("centre-save"), async () => {
    try {
      const saved = await api("PUT", "/centres/" + encodeURIComponent(row.unit_code), body);
      openCentre(saved);
      notify(`Đã lưu thông tin trung tâm của ${row.unit_name}. Trợ lý dùng thông tin này ngay.`);
      await loadCentres();
    } catch (err) {
      if (!centreError(err)) throw err;
    }
  });
}

async function onCentreRevert(ev) {
  const b = ev.currentTarget;
  const row = state.centre;
  if (!row || !row.correction) return;
  if (!confirmTwice(b, "Bấm lần nữa để trả về dữ liệu gốc")) return;
  clearNotices();
  await busy(b, async () => {
    try {
      await api("DELETE", `/centres/${encodeURIComponent(row.unit_code)}?base_version=${row.correction.version}`);
    } catch (err) {
      if (centreError(err)) return;
      throw err;
    }
    openCentre(await api("GET", "/centres/" + encodeURIComponent(row.unit_code)));
    notify(`Đã trả thông tin trung tâm của ${row.unit_name} về dữ liệu gốc.`);
    await loadCentres();
  });
}

// ---- starter questions of the chat widget ----

/** MAX_STARTERS and MAX_STARTER are the widget's limits, which the server checks too. */
const MAX_STARTERS = 8;
const MAX_STARTER = 100;

async function loadStarters() {
  $("starters-state").textContent = "Đang tải…";
  showStarters(await api("GET", "/starters"));
}

/** showStarters puts a GET /starters answer on the page: the questions in force, who set them, the default. */
function showStarters(v) {
  state.starters = v;
  const k = v.setting;
  $("starters-state").textContent = k
    ? `Cán bộ ${k.by} đặt lúc ${formatDate(k.at)}. Khung trò chuyện đang hiển thị ${k.questions.length} câu dưới đây.`
    : "Đang dùng câu hỏi mặc định: cán bộ chưa đặt câu hỏi gợi ý.";
  $("starters-rows").replaceChildren(...v.questions.map(starterRow));
  numberStarterRows();
  $("starters-default").replaceChildren(...v.default.map((q) => el("li", q)));
  $("starters-fields").disabled = !can("publisher");
  $("starters-reset").hidden = !k || !can("publisher");
}

function starterRow(q) {
  const li = el("li", null, "starter-row");
  const label = el("label");
  const input = el("input");
  input.className = "starter-q";
  input.maxLength = MAX_STARTER;
  input.value = q || "";
  label.append(el("span", "", "starter-n"), input);
  const up = button("Lên", "secondary starter-up", () => {
    if (li.previousElementSibling) {
      li.parentNode.insertBefore(li, li.previousElementSibling);
      numberStarterRows();
      up.focus();
    }
  });
  const remove = button("Xóa", "secondary starter-remove", () => {
    const next = li.nextElementSibling || li.previousElementSibling;
    li.remove();
    numberStarterRows();
    (next ? next.querySelector(".starter-q") : $("starters-add")).focus();
  });
  up.dataset.needs = remove.dataset.needs = "publisher";
  li.append(label, up, remove);
  return li;
}

/** numberStarterRows names each row by its position, as the server's reasons do ("Câu 2 …"). */
function numberStarterRows() {
  const rows = [...$("starters-rows").children];
  rows.forEach((li, i) => {
    li.querySelector(".starter-n").textContent = `Câu ${i + 1}`;
    li.querySelector(".starter-up").setAttribute("aria-label", `Lên trên: câu ${i + 1}`);
    li.querySelector(".starter-up").hidden = i === 0 || !can("publisher");
    li.querySelector(".starter-remove").setAttribute("aria-label", `Xóa câu ${i + 1}`);
    li.querySelector(".starter-remove").hidden = !can("publisher");
  });
  $("starters-add").disabled = rows.length >= MAX_STARTERS;
}

/** startersError shows a refused save: a conflict loads the current questions, invalid ones are named. */
function startersError(err) {
  if (err instanceof ApiError && err.status === 409 && err.current) {
    showStarters(err.current);
    notify("Câu hỏi gợi ý vừa được người khác sửa; trang đã tải bản hiện tại. Hãy kiểm tra rồi lưu lại.", true);
    return true;
  }
  if (err instanceof ApiError && err.fields.length) {
    notify(err.message + " " + err.fields.map((f) => f.reason).join(" "), true);
    return true;
  }
  return false;
}

async function onStartersSave(ev) {
  ev.preventDefault();
  clearNotices();
  const v = state.starters;
  if (!v) return;
  const questions = [...document.querySelectorAll("#starters-rows .starter-q")].map((i) => i.value.trim());
  const body = { base_version: v.setting ? v.setting.version : 0, questions };
  await busy($("starters-save"), async () => {
    try {
      showStarters(await api("PUT", "/starters", body));
      notify("Đã lưu câu hỏi gợi ý. Khung trò chuyện hiển thị các câu này ngay.");
    } catch (err) {
      if (!startersError(err)) throw err;
    }
  });
}

async function onStartersReset(ev) {
  const b = ev.currentTarget;
  const v = state.starters;
  if (!v || !v.setting) return;
  if (!confirmTwice(b, "Bấm lần nữa để dùng câu hỏi mặc định")) return;
  clearNotices();
  await busy(b, async () => {
    try {
      await api("DELETE", `/starters?base_version=${v.setting.version}`);
    } catch (err) {
      if (startersError(err)) return;
      throw err;
    }
    await loadStarters();
    notify("Đã trở lại câu hỏi mặc định. Khung trò chuyện hiển thị các câu này ngay.");
    $("starters-save").focus();
  });
}

// ---- wiring ----

function wire() {
  $("login-form").addEventListener("submit", (ev) => login(ev).catch(fail));
  $("logout").addEventListener("click", () => logout().catch(fail));
  for (const tab of document.querySelectorAll(".tab")) {
    tab.addEventListener("click", () => showView(tab.dataset.view));
  }
  for (const tab of document.querySelectorAll(".subtab")) {
    tab.addEventListener("click", () => showPane(tab.dataset.pane));
  }
  $("search-form").addEventListener("submit", (ev) => search(ev).catch(fail));
  $("search-more").addEventListener("click", () => search(null, true).catch(fail));
  $("new-form").addEventListener("submit", (ev) => newProcedure(ev).catch(fail));
  $("draft-form").addEventListener("submit", (ev) => onSave(ev).catch(fail));
  $("draft-discard").addEventListener("click", (ev) => onDiscard(ev).catch(fail));
  $("publish").addEventListener("click", () => onPublish().catch(fail));
  $("publish-confirm").addEventListener("click", () => onPublishConfirm().catch(fail));
  $("publish-cancel").addEventListener("click", () => {
    $("publish-dialog").close();
    notify("Chưa xuất bản: bản nháp vẫn được giữ.");
    $("publish").focus();
  });
  $("preview-open").addEventListener("click", onPreviewOpen);
  $("unpublish").addEventListener("click", (ev) => onUnpublish(ev).catch(fail));
  $("dossier-add").addEventListener("click", () => addRow("dossier-rows", dossierRow()));
  $("channel-add").addEventListener("click", () => addRow("channel-rows", channelRow()));
  $("step-add").addEventListener("click", () => addRow("step-rows", stepRow()));
  $("legal-add").addEventListener("click", () => addRow("legal-rows", legalRow()));
  $("preview-form").addEventListener("submit", (ev) => onPreview(ev).catch(fail));
  $("conflict-reload").addEventListener("click", () => {
    $("conflict").hidden = true;
    reloadProcedure().then(() => notify("Đã tải lại bản nháp mới nhất.")).catch(fail);
  });
  $("import-form").addEventListener("submit", (ev) => onImport(ev).catch(fail));
  $("import-publish").addEventListener("click", () => onImportPublish().catch(fail));
  $("import-filter").addEventListener("change", renderImportRows);
  $("export-link").href = API + "/export";
  $("unanswered-form").addEventListener("submit", (ev) => loadUnanswered(ev).catch(fail));
  $("centres-form").addEventListener("submit", (ev) => loadCentres(ev).catch(fail));
  $("centre-form").addEventListener("submit", (ev) => onCentreSave(ev).catch(fail));
  $("centre-revert").addEventListener("click", (ev) => onCentreRevert(ev).catch(fail));
  $("centre-close").addEventListener("click", () => {
    state.centre = null;
    $("centre-editor").hidden = true;
  });
  $("starters-form").addEventListener("submit", (ev) => onStartersSave(ev).catch(fail));
  $("starters-reset").addEventListener("click", (ev) => onStartersReset(ev).catch(fail));
  $("starters-add").addEventListener("click", () => {
    if ($("starters-rows").children.length >= MAX_STARTERS) return;
    addRow("starters-rows", starterRow(""));
    numberStarterRows();
  });
  window.addEventListener("beforeunload", (ev) => {
    if (state.session && dirty()) ev.preventDefault();
  });
}

async function start() {
  wire();
  try {
    const s = await api("GET", "/me", undefined, { noAuthRedirect: true });
    startSession(s);
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      showLogin(err.code === "session_expired" ? err.message : "");
    } else {
      showLogin(err.message || "Không kết nối được máy chủ.");
    }
  }
}

start();
