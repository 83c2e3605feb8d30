// The sandbox's JSON API: every call answers { ok, ... } and never throws.

export async function api(path, options = {}) {
  const init = { method: options.method || "GET", headers: {} };
  if (options.body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  try {
    const response = await fetch(path, init);
    const data = await response.json().catch(() => ({}));
    if (!response.ok) return { ok: false, code: data.code, error: data.error || response.statusText, status: response.status };
    return { ok: true, ...data };
  } catch (error) {
    return { ok: false, code: "network", error: String(error.message || error) };
  }
}

export function fileUrl(fileId, name, download) {
  const query = new URLSearchParams();
  if (name) query.set("name", name);
  if (download) query.set("download", "1");
  const suffix = query.toString();
  return `/api/files/${encodeURIComponent(fileId)}${suffix ? `?${suffix}` : ""}`;
}
