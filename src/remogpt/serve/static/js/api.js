// The JSON API of `remogpt serve` (docs/serve.md). Errors arrive as {"error": "..."} and are thrown as Error.

async function request(path, options = {}) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    throw new Error('the server cannot be reached; is `remogpt serve` still running?');
  }
  let body = null;
  try {
    body = await response.json();
  } catch (error) {
    body = null;
  }
  if (!response.ok) throw new Error(body?.error ?? `${response.status} ${response.statusText}`);
  return body;
}

export const api = {
  info: () => request('/api/info'),
  generate: (text, lengthSeconds, seed) => request('/api/generate', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text, length_seconds: lengthSeconds, seed }),
  }),
  continueMotion: (id, seconds, seed) => request('/api/continue', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, seconds, seed }),
  }),
  caption: (file) => request('/api/caption', {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: file,
  }),
  search: (query, k) => request(`/api/search?q=${encodeURIComponent(query)}&k=${k}`),
  motion: (id) => request(`/api/motions/${id}`),
};

// Fetch a download and hand it to the browser, so an error (e.g. 501) is shown instead of saved as a file.
export async function download(path) {
  const response = await fetch(path);
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try { message = (await response.json()).error ?? message; } catch (error) { /* not JSON */ }
    throw new Error(message);
  }
  const disposition = response.headers.get('content-disposition') || '';
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? path.split('/').pop();
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return name;
}
