// Files attached to a reply go straight to storage with a presigned form (POST /channels/uploads),
// never through the API; the message then names them by key.

import { useRef, useState } from "preact/hooks";
import { api, call, idempotencyKey } from "../../api/client";
import type { Attachment } from "./ticketApi";

export type UploadState =
  | { kind: "uploading"; percent: number }
  | { kind: "ready"; attachment: Attachment }
  | { kind: "failed"; reason: string };

export interface Upload {
  id: string;
  file: File;
  state: UploadState;
}

/** POST the form's fields, then the file, reporting progress; resolves when storage has it. */
function sendForm(url: string, fields: Record<string, string>, file: File, progress: (percent: number) => void, request: XMLHttpRequest): Promise<void> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append("file", file);
  return new Promise((resolve, reject) => {
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) progress(Math.round((event.loaded / event.total) * 100));
    };
    request.onload = () =>
      request.status >= 200 && request.status < 300 ? resolve() : reject(new Error(`storage answered ${request.status}`));
    request.onerror = () => reject(new Error("storage could not be reached"));
    request.onabort = () => reject(new Error("removed"));
    request.open("POST", url);
    request.send(form);
  });
}

async function upload(file: File, progress: (percent: number) => void, request: XMLHttpRequest): Promise<Attachment> {
  const content_type = file.type || "application/octet-stream";
  const form = await call(
    api().POST("/channels/uploads", {
      params: { header: idempotencyKey() },
      body: { name: file.name, content_type, size: file.size },
    }),
  );
  await sendForm(form.url, form.fields, file, progress, request);
  return { name: file.name, content_type, size: file.size, key: form.key };
}

/** The composer's files: each uploads as soon as it is picked, and can be removed before sending. */
export function useUploads() {
  const [uploads, setUploads] = useState<Upload[]>([]);
  const requests = useRef(new Map<string, XMLHttpRequest>());
  const update = (id: string, state: UploadState) =>
    setUploads((shown) => shown.map((item) => (item.id === id ? { ...item, state } : item)));

  const add = (files: FileList | null) => {
    for (const file of Array.from(files ?? [])) {
      const id = crypto.randomUUID();
      const request = new XMLHttpRequest();
      requests.current.set(id, request);
      setUploads((shown) => [...shown, { id, file, state: { kind: "uploading", percent: 0 } }]);
      upload(file, (percent) => update(id, { kind: "uploading", percent }), request)
        .then((attachment) => update(id, { kind: "ready", attachment }))
        .catch((error: unknown) => {
          if (requests.current.has(id)) update(id, { kind: "failed", reason: error instanceof Error ? error.message : String(error) });
        })
        .finally(() => requests.current.delete(id));
    }
  };
  const remove = (id: string) => {
    const request = requests.current.get(id);
    requests.current.delete(id);
    request?.abort();
    setUploads((shown) => shown.filter((item) => item.id !== id));
  };
  const attachments = uploads.flatMap((item) => (item.state.kind === "ready" ? [item.state.attachment] : []));
  return {
    uploads,
    attachments,
    /** Every file is stored: the message may be sent. */
    settled: uploads.every((item) => item.state.kind === "ready"),
    add,
    remove,
    clear: () => setUploads([]),
  };
}
