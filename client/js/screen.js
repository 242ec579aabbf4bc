// Keeps the screen on while a QR is shown to a verifier, where the browser allows it.
let lock = null;
export async function keepAwake(on) {
  try {
    if (on && "wakeLock" in navigator) {
      lock = await navigator.wakeLock.request("screen");
    } else if (!on && lock) {
      await lock.release();
      lock = null;
    }
  } catch {
    // Not allowed (battery saver, no user gesture): the QR is shown all the same.
  }
}
