// What the PWA keeps on this device for offline use, in IndexedDB (database "motcua", store
// "kept"): text records by key. Not in the service worker's caches, which every account of the
// device shares.

const DB = "motcua";
const STORE = "kept";

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

// Runs `work` on the store in one transaction; answers its request's result once committed.
async function run(mode, work) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

export function keepText(key, text) {
  return run("readwrite", (store) => store.put(text, key)).then(() => undefined);
}

export async function keptText(key) {
  return (await run("readonly", (store) => store.get(key))) ?? null;
}

export function forgetText(key) {
  return run("readwrite", (store) => store.delete(key)).then(() => undefined);
}
