// Uploads that work whichever server answers. The server keeps an upload in the memory of the worker
// that decoded it, under the file's content address; a request naming it that reaches another worker
// or machine (or the same one after a restart) is answered 404 with `"type": "unknown_upload"`. The
// page keeps every file it uploaded, so on that answer it sends the files the request names again and
// retries once: the same file gets the same id everywhere, so nothing else on the page changes.

import * as api from './api.js';

const KEPT = 16; // files kept for sending again, least recently uploaded dropped first
const files = new Map(); // upload id -> the File (or Blob) it came from

// POST a file to /api/images (as api.js upload) and keep it for sending again.
export async function upload(url, file) {
  const res = await api.upload(url, file);
  files.delete(res.id);
  files.set(res.id, file);
  while (files.size > KEPT) files.delete(files.keys().next().value);
  return res;
}

// Whether `err` (an api.js ApiError) says the server does not have an upload the request named.
export function unknownUpload(err) {
  return err?.status === 404 && Boolean(err.body?.detail?.some((d) => d.type === 'unknown_upload'));
}

// Upload again every kept file whose id appears in `text`; whether any was.
async function sendAgain(text) {
  const ids = [...files.keys()].filter((id) => text.includes(id));
  await Promise.all(ids.map((id) => api.upload('/api/images', files.get(id))));
  return ids.length > 0;
}

// `send` (any request function) made to survive a server that does not know an upload its arguments
// name: on that answer the files are uploaded again and `send` is called once more.
export function resending(send) {
  return async (...args) => {
    try {
      return await send(...args);
    } catch (err) {
      if (!unknownUpload(err) || !(await sendAgain(JSON.stringify(args)))) throw err;
      return send(...args);
    }
  };
}

export const postJSON = resending(api.postJSON);
export const postMaps = resending(api.postMaps);
