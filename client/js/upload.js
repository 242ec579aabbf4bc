// Uploads a file with progress (fetch cannot report upload progress; XMLHttpRequest can).
// Resolves with {status, body} as JSON text; rejects when the network fails or it is aborted.
export function uploadFile(url, csrf, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("x-csrf-token", csrf);
    xhr.setRequestHeader("accept", "application/json");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => resolve(JSON.stringify({ status: xhr.status, body: xhr.responseText }));
    xhr.onerror = () => reject("network");
    xhr.onabort = () => reject("aborted");
    xhr.send(file);
  });
}

// The first bytes of a file (what the upload sniffer reads), as a Uint8Array.
export async function headOf(file) {
  return new Uint8Array(await file.slice(0, 64).arrayBuffer());
}
