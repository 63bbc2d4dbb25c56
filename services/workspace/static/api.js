// JSON calls to the workspace API with the console's session cookie. Errors become exceptions carrying the
// server's message (FastAPI's "detail"), so panels show the lead what went wrong instead of failing silently.
export class ApiError extends Error {
  constructor(status, message, body) { super(message); this.status = status; this.body = body; }
}

async function call(method, path, body, headers = {}) {
  const options = { method, credentials: "same-origin", headers: { Accept: "application/json", ...headers } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text }; }
  if (!response.ok) {
    const detail = data && data.detail;
    const message = typeof detail === "string" ? detail : JSON.stringify(detail || response.statusText);
    throw new ApiError(response.status, message, data);
  }
  return data;
}

export const api = {
  get: (path) => call("GET", path),
  post: (path, body, headers) => call("POST", path, body ?? {}, headers),
  put: (path, body, headers) => call("PUT", path, body ?? {}, headers),
  del: (path, headers) => call("DELETE", path, undefined, headers),
};

// Build DOM nodes without innerHTML: every text a customer or lead typed is shown as text, never as markup.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
