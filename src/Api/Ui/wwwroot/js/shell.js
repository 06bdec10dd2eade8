// The parts of the shell the pages use: the message banner, error reporting and the confirmation dialog.

let bannerKind = null;

/** Shows a message in the banner: kind 'error' (default), 'offline' or 'info'. */
export function showBanner(text, kind = 'error') {
  const banner = document.getElementById('banner');
  banner.className = `banner banner-${kind}`;
  document.getElementById('banner-text').textContent = text;
  banner.hidden = false;
  bannerKind = kind;
}

/** Hides the banner (only if it shows a message of that kind, when one is given). */
export function hideBanner(kind) {
  if (kind && bannerKind !== kind) return;
  document.getElementById('banner').hidden = true;
  bannerKind = null;
}

/** Reports a failed call: 401 and unreachable are handled by the shell's listeners, others show the API's message. */
export function reportError(e) {
  if (e?.status === 401 || e?.status === 0) return;
  showBanner(e?.describe ? e.describe() : String(e?.message ?? e));
}

/** Asks the user to confirm; resolves true on the OK button. */
export function confirmAction(title, text, okLabel) {
  const dialog = document.getElementById('confirm-dialog');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-ok').textContent = okLabel;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
  });
}
